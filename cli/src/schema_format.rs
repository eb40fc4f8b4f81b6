//! `kiel produce --value-format avro|json-schema|protobuf` (and `--key-format`): each input
//! line's value (key) is JSON, written in the Confluent wire format with the schema from
//! `--value-schema FILE`, registered with the registry at `--schema-registry URL`, as
//! Confluent's `kafka-avro-console-producer` and its JSON Schema and Protobuf siblings do.
//!
//! The schema id comes from the registry once, before any input is read; after that each
//! line is encoded on the reading thread, and a line that does not fit its schema fails on
//! its own (`line N: value: ...`), as a line that does not parse does.
//!
//! # References
//! - Confluent `kafka-avro-console-producer` (`value.schema.file`, `parse.key`,
//!   `schema.registry.url`), Confluent wire format

use std::path::{Path, PathBuf};

use bytes::Bytes;
use kiel::Record;
use kiel_schema_registry::{
    AvroSerializer, JsonSchemaSerializer, ProtobufJsonSerializer, RegistryClient, RegistryConfig,
};

use crate::cli::{ProduceArgs, SchemaFormat};
use crate::error::CliError;

/// The key or the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Key,
    Value,
}

impl Part {
    fn name(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::Value => "value",
        }
    }
}

/// One part's serializer.
#[derive(Debug)]
enum Encoder {
    Avro(AvroSerializer<serde_json::Value>),
    JsonSchema(JsonSchemaSerializer<serde_json::Value>),
    Protobuf(ProtobufJsonSerializer),
}

impl Encoder {
    fn new(
        registry: &RegistryClient,
        format: SchemaFormat,
        text: &str,
        message: Option<&str>,
        part: Part,
    ) -> kiel_schema_registry::Result<Option<Self>> {
        let registry = registry.clone();
        let keys = part == Part::Key;
        Ok(Some(match format {
            SchemaFormat::Raw => return Ok(None),
            SchemaFormat::Avro => {
                let serializer = AvroSerializer::with_schema(registry, text)?;
                Self::Avro(if keys {
                    serializer.for_keys()
                } else {
                    serializer
                })
            }
            SchemaFormat::JsonSchema => {
                let serializer = JsonSchemaSerializer::new(registry, text)?;
                Self::JsonSchema(if keys {
                    serializer.for_keys()
                } else {
                    serializer
                })
            }
            SchemaFormat::Protobuf => {
                let serializer = ProtobufJsonSerializer::new(registry, text, message)?;
                Self::Protobuf(if keys {
                    serializer.for_keys()
                } else {
                    serializer
                })
            }
        }))
    }

    async fn prepare(&self, topic: &str) -> kiel_schema_registry::Result<u32> {
        match self {
            Self::Avro(s) => s.prepare(topic).await,
            Self::JsonSchema(s) => s.prepare(topic).await,
            Self::Protobuf(s) => s.prepare(topic).await,
        }
    }

    fn encode(&self, topic: &str, json: &[u8]) -> Result<Bytes, String> {
        let text = std::str::from_utf8(json).map_err(|e| format!("not UTF-8 JSON: {e}"))?;
        let parsed = || -> Result<serde_json::Value, String> {
            serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))
        };
        let encoded = match self {
            Self::Avro(s) => s.encode_json(topic, &parsed()?),
            Self::JsonSchema(s) => s.encode(topic, &parsed()?),
            Self::Protobuf(s) => s.encode_json(topic, text),
        };
        encoded.map_err(|e| e.to_string())
    }
}

/// Encodes each record's key and value as the options say.
#[derive(Debug)]
pub(crate) struct RecordEncoder {
    topic: String,
    key: Option<Encoder>,
    value: Option<Encoder>,
}

impl RecordEncoder {
    /// Replaces the record's JSON key and value by their wire-format bytes (a null key or
    /// value stays null), or says which part does not fit and why.
    pub(crate) fn encode(&self, record: &mut Record) -> Result<(), String> {
        for (part, encoder, field) in [
            (Part::Key, &self.key, &mut record.key),
            (Part::Value, &self.value, &mut record.value),
        ] {
            if let (Some(encoder), Some(json)) = (encoder, field.as_ref()) {
                let encoded = encoder
                    .encode(&self.topic, json)
                    .map_err(|e| format!("{}: {e}", part.name()))?;
                *field = Some(encoded);
            }
        }
        Ok(())
    }
}

fn read_schema(option: &str, path: &Path) -> Result<String, CliError> {
    std::fs::read_to_string(path)
        .map_err(|e| CliError::usage(format!("{option} {}: {e}", path.display())))
}

/// What the options ask for, checked before anything is sent: `None` when both key and
/// value are raw.
pub(crate) struct SchemaOptions {
    registry: RegistryClient,
    key: Option<Encoder>,
    value: Option<Encoder>,
    url: String,
}

impl std::fmt::Debug for SchemaOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaOptions")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn part_encoder(
    registry: &RegistryClient,
    part: Part,
    format: SchemaFormat,
    schema: Option<&PathBuf>,
    message: Option<&str>,
) -> Result<Option<Encoder>, CliError> {
    let name = part.name();
    if format == SchemaFormat::Raw {
        if schema.is_some() {
            return Err(CliError::usage(format!(
                "--{name}-schema needs --{name}-format avro, json-schema or protobuf"
            )));
        }
        return Ok(None);
    }
    let option = format!("--{name}-schema");
    let path = schema.ok_or_else(|| {
        CliError::usage(format!(
            "--{name}-format {} needs {option} FILE",
            format.name()
        ))
    })?;
    let text = read_schema(&option, path)?;
    if message.is_some() && format != SchemaFormat::Protobuf {
        return Err(CliError::usage(format!(
            "--{name}-message names a Protobuf message: it needs --{name}-format protobuf"
        )));
    }
    Encoder::new(registry, format, &text, message, part)
        .map_err(|e| CliError::usage(format!("{option} {}: {e}", path.display())))
}

impl SchemaOptions {
    /// Checks the schema options and reads the schema files (exit code 2 when they are
    /// wrong); no registry call yet.
    pub(crate) fn from_args(args: &ProduceArgs) -> Result<Option<Self>, CliError> {
        let wanted = args.key_format != SchemaFormat::Raw || args.value_format != SchemaFormat::Raw;
        let Some(url) = args.schema_registry.as_deref() else {
            if wanted {
                return Err(CliError::usage(
                    "--key-format / --value-format other than raw need --schema-registry URL",
                ));
            }
            if !args.registry_properties.is_empty() {
                return Err(CliError::usage(
                    "--registry-property needs --schema-registry URL",
                ));
            }
            return Ok(None);
        };
        if args.key_format != SchemaFormat::Raw && args.key_separator.is_none() {
            return Err(CliError::usage(
                "--key-format needs -K / --key-separator: each line is KEY<SEP>VALUE \
                 (pick a separator JSON keys do not contain, such as '\\t' or '|')",
            ));
        }
        let mut properties = vec![("schema.registry.url".to_owned(), url.to_owned())];
        for property in &args.registry_properties {
            let (key, value) = property.split_once('=').ok_or_else(|| {
                CliError::usage(format!(
                    "--registry-property {property}: expected KEY=VALUE"
                ))
            })?;
            properties.push((key.trim().to_owned(), value.to_owned()));
        }
        let registry = RegistryConfig::from_properties(properties)
            .and_then(RegistryClient::new)
            .map_err(|e| CliError::usage(format!("schema registry settings: {e}")))?;
        let key = part_encoder(
            &registry,
            Part::Key,
            args.key_format,
            args.key_schema.as_ref(),
            args.key_message.as_deref(),
        )?;
        let value = part_encoder(
            &registry,
            Part::Value,
            args.value_format,
            args.value_schema.as_ref(),
            args.value_message.as_deref(),
        )?;
        Ok(Some(Self {
            registry,
            key,
            value,
            url: url.to_owned(),
        }))
    }

    /// Gets the schema ids from the registry (exit code 1 when it cannot be reached or
    /// refuses: wrong credentials, an incompatible schema).
    pub(crate) async fn prepare(self, topic: &str) -> Result<RecordEncoder, CliError> {
        for (part, encoder) in [(Part::Key, &self.key), (Part::Value, &self.value)] {
            if let Some(encoder) = encoder {
                encoder.prepare(topic).await.map_err(|e| {
                    CliError::failed(format!(
                        "schema registry {}: the {} schema for topic `{topic}`: {e}",
                        self.url,
                        part.name()
                    ))
                })?;
            }
        }
        drop(self.registry);
        Ok(RecordEncoder {
            topic: topic.to_owned(),
            key: self.key,
            value: self.value,
        })
    }
}
