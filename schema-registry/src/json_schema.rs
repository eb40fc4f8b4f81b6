//! JSON Schema in the Confluent wire format: [`JsonSchemaSerializer`] validates each value
//! against the schema before anything is queued, then writes the header and the JSON text;
//! [`JsonSchemaDeserializer`] reads it back, validating against the writer's schema.
//!
//! # References
//! - JSON Schema (drafts 4 to 2020-12), Confluent's JSON Schema serializer and wire format

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::lock;
use crate::schema::Schema;
use crate::subject::Field;
use crate::wire;

const FORMAT: &str = "JSON Schema";

fn json_error(e: impl std::fmt::Display) -> Error {
    Error::Serialization {
        format: FORMAT,
        message: e.to_string(),
    }
}

/// A compiled schema with its text.
struct Compiled {
    text: String,
    title: Option<String>,
    validator: jsonschema::Validator,
}

impl Compiled {
    fn new(text: &str) -> Result<Self> {
        let document: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::InvalidSchema {
                code: 0,
                message: format!("not JSON: {e}"),
            })?;
        let validator = jsonschema::validator_for(&document).map_err(|e| Error::InvalidSchema {
            code: 0,
            message: format!("not a JSON Schema: {e}"),
        })?;
        Ok(Self {
            text: text.to_owned(),
            title: document
                .get("title")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            validator,
        })
    }

    /// Every way `value` breaks the schema, or nothing.
    fn check(&self, value: &serde_json::Value) -> Result<()> {
        let problems: Vec<String> = self
            .validator
            .iter_errors(value)
            .take(5)
            .map(|e| format!("{} (at {})", e, e.instance_path()))
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(json_error(format!(
                "the value does not match the schema: {}",
                problems.join("; ")
            )))
        }
    }
}

/// Serializes `T` as JSON with the Confluent header, after validating it against the schema.
pub struct JsonSchemaSerializer<T: ?Sized> {
    registry: RegistryClient,
    schema: Arc<Compiled>,
    field: Field,
    ids: Mutex<HashMap<String, u32>>,
    _values: PhantomData<fn(&T)>,
}

impl<T: ?Sized> std::fmt::Debug for JsonSchemaSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchemaSerializer")
            .field("schema", &self.schema.text)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized> JsonSchemaSerializer<T> {
    /// A serializer for record values with the JSON Schema `text`.
    pub fn new(registry: RegistryClient, text: &str) -> Result<Self> {
        Ok(Self {
            registry,
            schema: Arc::new(Compiled::new(text)?),
            field: Field::Value,
            ids: Mutex::new(HashMap::new()),
            _values: PhantomData,
        })
    }

    /// The same serializer for record keys.
    pub fn for_keys(mut self) -> Self {
        self.field = Field::Key;
        self
    }

    /// The subject for `topic` (the record-name strategies use the schema's `title`).
    pub fn subject(&self, topic: &str) -> Result<String> {
        self.registry.config().subject_name_strategy.subject(
            topic,
            self.field,
            self.schema.title.as_deref(),
        )
    }

    /// Gets the schema id for `topic` from the registry, once per topic.
    pub async fn prepare(&self, topic: &str) -> Result<u32> {
        if let Some(id) = lock(&self.ids).get(topic) {
            return Ok(*id);
        }
        let subject = self.subject(topic)?;
        let id = self
            .registry
            .id_for(&subject, &Schema::json(self.schema.text.clone()))
            .await?;
        lock(&self.ids).insert(topic.to_owned(), id);
        Ok(id)
    }

    /// `value` in the wire format for `topic`: validated, then written.
    pub fn encode(&self, topic: &str, value: &T) -> Result<Bytes>
    where
        T: Serialize,
    {
        let id = lock(&self.ids)
            .get(topic)
            .copied()
            .ok_or_else(|| Error::NotPrepared {
                topic: topic.to_owned(),
            })?;
        let json = serde_json::to_value(value).map_err(json_error)?;
        self.schema.check(&json)?;
        let mut out = BytesMut::with_capacity(64);
        wire::write_header(id, &mut out);
        serde_json::to_writer(bytes::BufMut::writer(&mut out), &json).map_err(json_error)?;
        Ok(out.freeze())
    }
}

impl<T: Serialize + ?Sized> kiel::serialize::Serializer<T> for JsonSchemaSerializer<T> {
    fn serialize(&self, topic: &str, value: &T) -> kiel::Result<Bytes> {
        self.encode(topic, value)
            .map_err(|e| kiel::Error::Serialization(Arc::new(e)))
    }
}

/// Reads JSON Schema values in the Confluent wire format, validating each against its writer
/// schema (fetched from the registry once per id).
#[derive(Clone)]
pub struct JsonSchemaDeserializer {
    registry: RegistryClient,
    schemas: Arc<Mutex<HashMap<u32, Arc<Compiled>>>>,
}

impl std::fmt::Debug for JsonSchemaDeserializer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchemaDeserializer")
            .finish_non_exhaustive()
    }
}

impl JsonSchemaDeserializer {
    /// A deserializer using `registry`.
    pub fn new(registry: RegistryClient) -> Self {
        Self {
            registry,
            schemas: Arc::default(),
        }
    }

    /// The schema id and the value in `bytes`.
    pub async fn deserialize<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<(u32, T)> {
        let (id, payload) = wire::split_header(bytes)?;
        let cached = lock(&self.schemas).get(&id).cloned();
        let schema = match cached {
            Some(schema) => schema,
            None => {
                let text = self.registry.schema_by_id(id).await?.text;
                let compiled = Arc::new(Compiled::new(&text)?);
                lock(&self.schemas).insert(id, Arc::clone(&compiled));
                compiled
            }
        };
        let json: serde_json::Value = serde_json::from_slice(payload).map_err(json_error)?;
        schema.check(&json)?;
        Ok((id, serde_json::from_value(json).map_err(json_error)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: &str = r#"{
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Payment",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "amount": {"type": "number", "minimum": 0}
        },
        "required": ["id", "amount"]
    }"#;

    fn serializer() -> JsonSchemaSerializer<serde_json::Value> {
        let registry =
            RegistryClient::from_url("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
        JsonSchemaSerializer::new(registry, SCHEMA).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn valid_values_are_written_and_invalid_ones_refused_naming_the_problem() {
        let payments = serializer();
        lock(&payments.ids).insert("payments".into(), 4);
        let good = serde_json::json!({"id": "p-1", "amount": 10.5});
        let bytes = payments
            .encode("payments", &good)
            .unwrap_or_else(|e| panic!("{e}"));
        let (id, payload) = wire::split_header(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, 4);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(payload).ok(),
            Some(good)
        );
        let bad = serde_json::json!({"id": 7, "amount": -1});
        let error = payments
            .encode("payments", &bad)
            .err()
            .unwrap_or_else(|| panic!("an invalid value was written"));
        let text = error.to_string();
        assert!(text.contains("/amount") && text.contains("/id"), "{text}");
        assert_eq!(
            payments.subject("payments").ok().as_deref(),
            Some("payments-value")
        );
    }

    #[test]
    fn a_schema_that_is_not_one_is_refused() {
        let registry =
            RegistryClient::from_url("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
        let refused = JsonSchemaSerializer::<serde_json::Value>::new(registry, r#"{"type": 12}"#);
        assert!(
            matches!(refused, Err(Error::InvalidSchema { .. })),
            "{refused:?}"
        );
    }
}
