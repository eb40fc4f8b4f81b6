//! Protobuf in the Confluent wire format: [`ProtobufSerializer`] writes `prost` messages
//! after the header and the message-index list, [`ProtobufDeserializer`] reads them back,
//! naming the writer's message from the registry's schema.
//!
//! The schema is the `.proto` file's text (the one `prost-build` compiled the type from)
//! and the message's full name: the text is registered, and parsed once (without protoc) to
//! find where the message sits in the file, which the wire format says in every value.
//!
//! ```no_run
//! # async fn demo() -> kiel_schema_registry::Result<()> {
//! use kiel_schema_registry::{ProtobufSerializer, RegistryClient};
//!
//! #[derive(Clone, PartialEq, prost::Message)]
//! struct Order {
//!     #[prost(string, tag = "1")]
//!     order_id: String,
//! }
//!
//! const SHOP_PROTO: &str = r#"syntax = "proto3"; package shop; message Order { string order_id = 1; }"#;
//! let registry = RegistryClient::from_url("http://127.0.0.1:8081")?;
//! let serializer = ProtobufSerializer::<Order>::new(registry, SHOP_PROTO, "shop.Order")?;
//! serializer.prepare("orders").await?;
//! let bytes = serializer.encode("orders", &Order { order_id: "o-1".into() })?;
//! # let _ = bytes;
//! # Ok(())
//! # }
//! ```
//!
//! # References
//! - Confluent Schema Registry documentation, "Wire format" and the Protobuf serializer
//! - Protocol Buffers language guide (proto3), encoding

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use prost_types::FileDescriptorProto;

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::lock;
use crate::message_indexes;
use crate::schema::Schema;
use crate::subject::Field;
use crate::wire;

const FORMAT: &str = "Protobuf";

/// A parsed `.proto` file.
fn parse(text: &str) -> Result<FileDescriptorProto> {
    protox_parse::parse("schema.proto", text).map_err(|e| Error::InvalidSchema {
        code: 0,
        message: format!("not a .proto file: {e}"),
    })
}

/// Where `message` sits in `file`, or an error listing the messages it has.
fn indexes_of(file: &FileDescriptorProto, message: &str) -> Result<Vec<i32>> {
    message_indexes::find(file, message).ok_or_else(|| Error::InvalidSchema {
        code: 0,
        message: format!(
            "the .proto has no message `{message}`; it has {}",
            message_indexes::all_names(file).join(", ")
        ),
    })
}

/// The bytes every value of a topic starts with: the header and the message indexes.
#[derive(Debug, Clone)]
struct Writer {
    id: u32,
    prefix: Bytes,
}

/// Serializes `T` (a `prost` message) as Protobuf with the Confluent header and
/// message-index list.
pub struct ProtobufSerializer<T> {
    registry: RegistryClient,
    text: String,
    message: String,
    indexes: Vec<i32>,
    field: Field,
    writers: Mutex<HashMap<String, Writer>>,
    _values: PhantomData<fn(&T)>,
}

impl<T> std::fmt::Debug for ProtobufSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtobufSerializer")
            .field("message", &self.message)
            .field("indexes", &self.indexes)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

impl<T: prost::Message> ProtobufSerializer<T> {
    /// A serializer for record values of message `message` (its full name,
    /// `package.Message`, or `package.Outer.Inner` for a nested one) of the `.proto` text.
    /// The text must be the file `T` was generated from; it is what the registry gets.
    pub fn new(registry: RegistryClient, proto: &str, message: &str) -> Result<Self> {
        let file = parse(proto)?;
        let indexes = indexes_of(&file, message)?;
        let message = message_indexes::name_at(&file, &indexes).unwrap_or_else(|| message.into());
        Ok(Self {
            registry,
            text: proto.to_owned(),
            message,
            indexes,
            field: Field::Value,
            writers: Mutex::new(HashMap::new()),
            _values: PhantomData,
        })
    }

    /// The same serializer for record keys.
    pub fn for_keys(mut self) -> Self {
        self.field = Field::Key;
        self
    }

    /// The message's full name, as the record-name strategies use it.
    pub fn message_name(&self) -> &str {
        &self.message
    }

    /// The message-index list the values carry.
    pub fn message_indexes(&self) -> &[i32] {
        &self.indexes
    }

    /// The subject for `topic`, by the registry settings' subject name strategy.
    pub fn subject(&self, topic: &str) -> Result<String> {
        self.registry
            .config()
            .subject_name_strategy
            .subject(topic, self.field, Some(&self.message))
    }

    /// Gets the schema id for `topic` (registering the `.proto` if
    /// `auto.register.schemas`, else looking it up; with `use.latest.version`, the subject's
    /// latest schema, in which the message is looked up again). Once per topic.
    pub async fn prepare(&self, topic: &str) -> Result<u32> {
        if let Some(writer) = lock(&self.writers).get(topic) {
            return Ok(writer.id);
        }
        let subject = self.subject(topic)?;
        let (id, indexes) = if self.registry.config().use_latest_version {
            let latest = self.registry.latest(&subject).await?;
            let file = parse(&latest.schema.text)?;
            (latest.id, indexes_of(&file, &self.message)?)
        } else {
            let id = self
                .registry
                .id_for(&subject, &Schema::protobuf(self.text.clone()))
                .await?;
            (id, self.indexes.clone())
        };
        let mut prefix = BytesMut::with_capacity(wire::HEADER_LEN + 4);
        wire::write_header(id, &mut prefix);
        message_indexes::write(&indexes, &mut prefix);
        lock(&self.writers).insert(
            topic.to_owned(),
            Writer {
                id,
                prefix: prefix.freeze(),
            },
        );
        Ok(id)
    }

    /// `value` in the wire format for `topic`, whose id [`Self::prepare`] got.
    pub fn encode(&self, topic: &str, value: &T) -> Result<Bytes> {
        let prefix = lock(&self.writers)
            .get(topic)
            .map(|w| w.prefix.clone())
            .ok_or_else(|| Error::NotPrepared {
                topic: topic.to_owned(),
            })?;
        let mut out = BytesMut::with_capacity(prefix.len() + value.encoded_len());
        out.extend_from_slice(&prefix);
        value.encode(&mut out).map_err(|e| Error::Serialization {
            format: FORMAT,
            message: e.to_string(),
        })?;
        Ok(out.freeze())
    }
}

impl<T: prost::Message> kiel::serialize::Serializer<T> for ProtobufSerializer<T> {
    fn serialize(&self, topic: &str, value: &T) -> kiel::Result<Bytes> {
        self.encode(topic, value)
            .map_err(|e| kiel::Error::Serialization(Arc::new(e)))
    }
}

/// Encodes messages known only at run time, from their `.proto` text, out of JSON in
/// proto3's JSON mapping (as `kafka-protobuf-console-producer` reads them): what the CLI's
/// `--value-format protobuf` uses.
#[derive(Debug)]
pub struct ProtobufJsonSerializer {
    serializer: ProtobufSerializer<prost_reflect::DynamicMessage>,
    descriptor: prost_reflect::MessageDescriptor,
}

impl ProtobufJsonSerializer {
    /// A serializer for `message` of the `.proto` text (`None`: the file's first message).
    /// The file may import nothing but the well-known types.
    pub fn new(registry: RegistryClient, proto: &str, message: Option<&str>) -> Result<Self> {
        let file = parse(proto)?;
        let message = match message {
            Some(name) => name.to_owned(),
            None => message_indexes::name_at(&file, &[0]).ok_or_else(|| Error::InvalidSchema {
                code: 0,
                message: "the .proto defines no message".to_owned(),
            })?,
        };
        let serializer = ProtobufSerializer::new(registry, proto, &message)?;
        let mut pool = prost_reflect::DescriptorPool::global();
        pool.add_file_descriptor_proto(file)
            .map_err(|e| Error::InvalidSchema {
                code: 0,
                message: format!("the .proto does not compile: {e}"),
            })?;
        let descriptor = pool
            .get_message_by_name(serializer.message_name())
            .ok_or_else(|| Error::InvalidSchema {
                code: 0,
                message: format!("no message `{message}` after compiling the .proto"),
            })?;
        Ok(Self {
            serializer,
            descriptor,
        })
    }

    /// The same serializer for record keys.
    pub fn for_keys(mut self) -> Self {
        self.serializer = self.serializer.for_keys();
        self
    }

    /// The message's full name.
    pub fn message_name(&self) -> &str {
        self.serializer.message_name()
    }

    /// See [`ProtobufSerializer::prepare`].
    pub async fn prepare(&self, topic: &str) -> Result<u32> {
        self.serializer.prepare(topic).await
    }

    /// The message in `json` in the wire format for `topic`; JSON that is not the message
    /// (an unknown field, a wrong type) is the typed serialization error saying why.
    pub fn encode_json(&self, topic: &str, json: &str) -> Result<Bytes> {
        let mut input = serde_json::Deserializer::from_str(json);
        let message =
            prost_reflect::DynamicMessage::deserialize(self.descriptor.clone(), &mut input)
                .and_then(|m| input.end().map(|()| m))
                .map_err(|e| Error::Serialization {
                    format: FORMAT,
                    message: format!("not a {}: {e}", self.message_name()),
                })?;
        self.serializer.encode(topic, &message)
    }
}

/// A value read by [`ProtobufDeserializer`].
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded<T> {
    /// The schema id in the header.
    pub schema_id: u32,
    /// The writer's message, by its full name in the registry's schema.
    pub message: String,
    /// The value.
    pub value: T,
}

/// Reads Protobuf values in the Confluent wire format, fetching each writer schema from the
/// registry once.
#[derive(Debug, Clone)]
pub struct ProtobufDeserializer {
    registry: RegistryClient,
    files: Arc<Mutex<HashMap<u32, Arc<FileDescriptorProto>>>>,
}

impl ProtobufDeserializer {
    /// A deserializer using `registry`.
    pub fn new(registry: RegistryClient) -> Self {
        Self {
            registry,
            files: Arc::default(),
        }
    }

    async fn writer_file(&self, id: u32) -> Result<Arc<FileDescriptorProto>> {
        if let Some(file) = lock(&self.files).get(&id) {
            return Ok(Arc::clone(file));
        }
        let schema = self.registry.schema_by_id(id).await?;
        let file = Arc::new(parse(&schema.text)?);
        lock(&self.files).insert(id, Arc::clone(&file));
        Ok(file)
    }

    /// The schema id, the writer's message name and the value in `bytes`, decoded as `T`.
    pub async fn deserialize<T: prost::Message + Default>(
        &self,
        bytes: &[u8],
    ) -> Result<Decoded<T>> {
        let (schema_id, rest) = wire::split_header(bytes)?;
        let (indexes, payload) = message_indexes::read(rest)?;
        let file = self.writer_file(schema_id).await?;
        let message = message_indexes::name_at(&file, &indexes).ok_or_else(|| {
            Error::WireFormat(format!(
                "message indexes {indexes:?} name no message of schema {schema_id}"
            ))
        })?;
        let value = T::decode(payload).map_err(|e| Error::Serialization {
            format: FORMAT,
            message: format!("{message}: {e}"),
        })?;
        Ok(Decoded {
            schema_id,
            message,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, PartialEq, prost::Message)]
    struct Refund {
        #[prost(string, tag = "1")]
        order_id: String,
        #[prost(int64, tag = "2")]
        cents: i64,
    }

    const SHOP: &str = r#"syntax = "proto3";
package shop;
message Order { string order_id = 1; }
message Refund { string order_id = 1; int64 cents = 2; }
"#;

    fn registry() -> RegistryClient {
        RegistryClient::from_url("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn values_carry_the_header_the_message_indexes_and_the_message() {
        let serializer = ProtobufSerializer::<Refund>::new(registry(), SHOP, "shop.Refund")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serializer.message_indexes(), &[1]);
        let refund = Refund {
            order_id: "o-9".into(),
            cents: -250,
        };
        assert!(matches!(
            serializer.encode("refunds", &refund),
            Err(Error::NotPrepared { .. })
        ));
        let mut prefix = BytesMut::new();
        wire::write_header(42, &mut prefix);
        message_indexes::write(&[1], &mut prefix);
        lock(&serializer.writers).insert(
            "refunds".into(),
            Writer {
                id: 42,
                prefix: prefix.freeze(),
            },
        );
        let bytes = serializer
            .encode("refunds", &refund)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&bytes[..7], &[0, 0, 0, 0, 42, 2, 2]);
        let back =
            <Refund as prost::Message>::decode(&bytes[7..]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, refund);
    }

    #[test]
    fn a_message_the_proto_does_not_have_or_a_broken_proto_is_refused() {
        let missing = ProtobufSerializer::<Refund>::new(registry(), SHOP, "shop.Payment");
        assert!(
            matches!(&missing, Err(Error::InvalidSchema { message, .. })
                if message.contains("shop.Payment") && message.contains("shop.Refund")),
            "{missing:?}"
        );
        let broken = ProtobufSerializer::<Refund>::new(registry(), "message {", "Refund");
        assert!(
            matches!(broken, Err(Error::InvalidSchema { .. })),
            "{broken:?}"
        );
    }

    #[test]
    fn json_lines_become_messages_of_a_proto_known_at_run_time() {
        let serializer = ProtobufJsonSerializer::new(registry(), SHOP, Some("shop.Refund"))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut prefix = BytesMut::new();
        wire::write_header(9, &mut prefix);
        message_indexes::write(&[1], &mut prefix);
        lock(&serializer.serializer.writers).insert(
            "refunds".into(),
            Writer {
                id: 9,
                prefix: prefix.freeze(),
            },
        );
        // int64 may come as a string or a number; field names as written or in lowerCamelCase.
        for json in [
            r#"{"order_id": "o-9", "cents": "-250"}"#,
            r#"{"orderId": "o-9", "cents": -250}"#,
        ] {
            let bytes = serializer
                .encode_json("refunds", json)
                .unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(&bytes[..7], &[0, 0, 0, 0, 9, 2, 2]);
            let back =
                <Refund as prost::Message>::decode(&bytes[7..]).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                back,
                Refund {
                    order_id: "o-9".into(),
                    cents: -250
                }
            );
        }
        for bad in [r#"{"order": 1}"#, r#"{"cents": "many"}"#, "[1]", "{} {}"] {
            let result = serializer.encode_json("refunds", bad);
            assert!(
                matches!(&result, Err(Error::Serialization { format: "Protobuf", message }) if message.contains("shop.Refund")),
                "{bad}: {result:?}"
            );
        }
        let first =
            ProtobufJsonSerializer::new(registry(), SHOP, None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(first.message_name(), "shop.Order");
    }

    #[test]
    fn the_record_name_strategies_use_the_message_s_full_name() {
        let config = crate::RegistryConfig::from_properties([
            ("schema.registry.url", "http://127.0.0.1:9"),
            ("value.subject.name.strategy", "RecordNameStrategy"),
        ]);
        let config = config.unwrap_or_else(|e| panic!("{e}"));
        let registry = RegistryClient::new(config).unwrap_or_else(|e| panic!("{e}"));
        let serializer = ProtobufSerializer::<Refund>::new(registry, SHOP, "Refund")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serializer.message_name(), "shop.Refund");
        assert_eq!(
            serializer.subject("refunds").ok().as_deref(),
            Some("shop.Refund")
        );
    }
}
