//! Schemas as the registry stores them: text, type and references.
//!
//! # References
//! - Confluent Schema Registry API reference: `POST /subjects/(subject)/versions`,
//!   `GET /schemas/ids/(id)`, schema references

use serde::{Deserialize, Serialize};

/// The kind of schema; the registry's `schemaType` (absent means Avro).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    /// Apache Avro.
    #[default]
    Avro,
    /// Protocol Buffers.
    Protobuf,
    /// JSON Schema.
    Json,
}

/// Another subject's schema that a schema refers to by `name` (an Avro named type, a
/// Protobuf import path, a JSON Schema `$ref`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    /// The name the schema uses for it.
    pub name: String,
    /// The subject it is registered under.
    pub subject: String,
    /// Its version there.
    pub version: i32,
}

/// A schema: its text, type and references.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Schema {
    /// The schema text (Avro JSON, a `.proto` file, a JSON Schema document).
    #[serde(rename = "schema")]
    pub text: String,
    /// The kind of schema.
    #[serde(rename = "schemaType", default, skip_serializing_if = "is_avro")]
    pub schema_type: SchemaType,
    /// The schemas it refers to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<SchemaReference>,
}

fn is_avro(kind: &SchemaType) -> bool {
    *kind == SchemaType::Avro
}

impl Schema {
    /// An Avro schema.
    pub fn avro(text: impl Into<String>) -> Self {
        Self::new(SchemaType::Avro, text)
    }

    /// A Protobuf schema (the `.proto` file's text).
    pub fn protobuf(text: impl Into<String>) -> Self {
        Self::new(SchemaType::Protobuf, text)
    }

    /// A JSON Schema.
    pub fn json(text: impl Into<String>) -> Self {
        Self::new(SchemaType::Json, text)
    }

    /// A schema of `schema_type`.
    pub fn new(schema_type: SchemaType, text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            schema_type,
            references: Vec::new(),
        }
    }

    /// The same schema with a reference to another subject's schema.
    pub fn with_reference(mut self, name: &str, subject: &str, version: i32) -> Self {
        self.references.push(SchemaReference {
            name: name.to_owned(),
            subject: subject.to_owned(),
            version,
        });
        self
    }
}

/// A schema as registered under a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredSchema {
    /// The subject.
    pub subject: String,
    /// The schema's global id (what the wire format carries).
    pub id: u32,
    /// Its version within the subject.
    pub version: i32,
    /// The schema.
    pub schema: Schema,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avro_is_the_default_type_and_is_left_out_of_requests() {
        let text = serde_json::to_string(&Schema::avro("\"string\"")).unwrap_or_default();
        assert_eq!(text, r#"{"schema":"\"string\""}"#);
        let protobuf = Schema::protobuf("syntax = \"proto3\";").with_reference("a.proto", "a", 1);
        let text = serde_json::to_string(&protobuf).unwrap_or_default();
        assert_eq!(
            text,
            r#"{"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF","references":[{"name":"a.proto","subject":"a","version":1}]}"#
        );
        let back: Schema =
            serde_json::from_str(r#"{"schema":"{}"}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.schema_type, SchemaType::Avro);
    }
}
