//! Avro in the Confluent wire format: [`AvroSerializer`] plugs into kiel's `Serializer`
//! (and so into `TypedProducer`), [`AvroDeserializer`] reads what any Confluent-compatible
//! producer wrote.
//!
//! The schema comes from the Rust type (`#[derive(AvroSchema)]`) or is given as text. Its id
//! comes from the registry once per topic: [`AvroSerializer::prepare`] registers the schema
//! (`auto.register.schemas`), looks it up, or takes the subject's latest version
//! (`use.latest.version`), and `serialize` then needs no registry call.
//!
//! # References
//! - Apache Avro specification, binary encoding
//! - Confluent Schema Registry documentation, wire format and subject name strategies

use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::writer::datum::GenericDatumWriter;
use apache_avro::AvroSchema;
use bytes::{BufMut, Bytes, BytesMut};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::avro_references;
use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::lock;
use crate::schema::Schema;
use crate::subject::Field;
use crate::wire;

const FORMAT: &str = "Avro";

fn avro_error(e: impl std::fmt::Display) -> Error {
    Error::Serialization {
        format: FORMAT,
        message: e.to_string(),
    }
}

/// The schema a topic's records are written with, and its id.
#[derive(Debug, Clone)]
struct Writer {
    id: u32,
    schema: Arc<apache_avro::Schema>,
    /// The schema names no other named type by name, so values are written without a
    /// table of names (building one per value cost more than the encoding itself).
    self_contained: bool,
}

impl Writer {
    fn new(id: u32, schema: Arc<apache_avro::Schema>) -> Self {
        let self_contained = !refers_by_name(&schema);
        Self {
            id,
            schema,
            self_contained,
        }
    }

    /// Appends `value`, Avro-encoded, to `out`.
    fn write<T: Serialize + ?Sized>(&self, value: &T, out: &mut BytesMut) -> Result<()> {
        let mut out = out.writer();
        if self.self_contained {
            apache_avro::write_avro_datum_ref(&self.schema, &HashMap::new(), &value, &mut out)
                .map_err(avro_error)?;
        } else {
            GenericDatumWriter::builder(&self.schema)
                .build()
                .and_then(|writer| writer.write_ser(&mut out, &value))
                .map_err(avro_error)?;
        }
        Ok(())
    }
}

/// Whether `schema` uses a named type by its name somewhere (a `Ref`).
fn refers_by_name(schema: &apache_avro::Schema) -> bool {
    use apache_avro::Schema as S;
    match schema {
        S::Ref { .. } => true,
        S::Array(array) => refers_by_name(&array.items),
        S::Map(map) => refers_by_name(&map.types),
        S::Union(union) => union.variants().iter().any(refers_by_name),
        S::Record(record) => record.fields.iter().any(|f| refers_by_name(&f.schema)),
        _ => false,
    }
}

/// Serializes `T` (any `serde::Serialize` value that fits the schema) as Avro with the
/// Confluent header.
pub struct AvroSerializer<T: ?Sized> {
    registry: RegistryClient,
    schema: Arc<apache_avro::Schema>,
    field: Field,
    writers: Mutex<HashMap<String, Writer>>,
    _values: PhantomData<fn(&T)>,
}

impl<T: ?Sized> std::fmt::Debug for AvroSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroSerializer")
            .field("schema", &self.schema.canonical_form())
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

impl<T: AvroSchema + ?Sized> AvroSerializer<T> {
    /// A serializer with the schema `#[derive(AvroSchema)]` gives `T`, for record values.
    pub fn derived(registry: RegistryClient) -> Self {
        Self::from_schema(registry, T::get_schema())
    }
}

impl<T: ?Sized> AvroSerializer<T> {
    /// A serializer with a schema given as Avro JSON text, for record values.
    pub fn with_schema(registry: RegistryClient, text: &str) -> Result<Self> {
        let schema = apache_avro::Schema::parse_str(text).map_err(|e| Error::InvalidSchema {
            code: 0,
            message: format!("not an Avro schema: {e}"),
        })?;
        Ok(Self::from_schema(registry, schema))
    }

    fn from_schema(registry: RegistryClient, schema: apache_avro::Schema) -> Self {
        Self {
            registry,
            schema: Arc::new(schema),
            field: Field::Value,
            writers: Mutex::new(HashMap::new()),
            _values: PhantomData,
        }
    }

    /// The same serializer for record keys (subject `<topic>-key` with TopicNameStrategy).
    pub fn for_keys(mut self) -> Self {
        self.field = Field::Key;
        self
    }

    /// The schema as the registry gets it: the full JSON form (Avro's parsing canonical
    /// form would drop field defaults, which compatibility checks need).
    pub fn registry_schema(&self) -> Schema {
        let text =
            serde_json::to_string(&*self.schema).unwrap_or_else(|_| self.schema.canonical_form());
        Schema::avro(text)
    }

    /// The subject for `topic`, by the registry settings' subject name strategy.
    pub fn subject(&self, topic: &str) -> Result<String> {
        let name = self.schema.name().map(|n| n.fullname(None));
        self.registry
            .config()
            .subject_name_strategy
            .subject(topic, self.field, name.as_deref())
    }

    /// Gets the schema id for `topic` from the registry (registering the schema if
    /// `auto.register.schemas`, else looking it up; with `use.latest.version`, the subject's
    /// latest schema and id are used to write). Once per topic; later calls cost nothing.
    pub async fn prepare(&self, topic: &str) -> Result<u32> {
        if let Some(writer) = lock(&self.writers).get(topic) {
            return Ok(writer.id);
        }
        let subject = self.subject(topic)?;
        let writer = if self.registry.config().use_latest_version {
            let latest = self.registry.latest(&subject).await?;
            let text = avro_references::standalone(&self.registry, &latest.schema).await?;
            let schema = apache_avro::Schema::parse_str(&text)
                .map_err(|e| avro_error(format!("the latest schema of {subject}: {e}")))?;
            Writer::new(latest.id, Arc::new(schema))
        } else {
            let id = self
                .registry
                .id_for(&subject, &self.registry_schema())
                .await?;
            Writer::new(id, Arc::clone(&self.schema))
        };
        let id = writer.id;
        lock(&self.writers).insert(topic.to_owned(), writer);
        Ok(id)
    }

    /// `value` in the wire format for `topic`, whose id [`Self::prepare`] got.
    pub fn encode(&self, topic: &str, value: &T) -> Result<Bytes>
    where
        T: Serialize,
    {
        let writer = lock(&self.writers)
            .get(topic)
            .cloned()
            .ok_or_else(|| Error::NotPrepared {
                topic: topic.to_owned(),
            })?;
        let mut out = BytesMut::with_capacity(128);
        wire::write_header(writer.id, &mut out);
        writer.write(value, &mut out)?;
        Ok(out.freeze())
    }
}

impl AvroSerializer<serde_json::Value> {
    /// A JSON value (as `kafka-avro-console-producer` reads them) in the wire format for
    /// `topic`: numbers become the schema's int, long, float or double, a union takes the
    /// branch the value fits, missing fields their defaults; a value that does not fit is
    /// the typed serialization error saying why.
    pub fn encode_json(&self, topic: &str, value: &serde_json::Value) -> Result<Bytes> {
        let writer = lock(&self.writers)
            .get(topic)
            .cloned()
            .ok_or_else(|| Error::NotPrepared {
                topic: topic.to_owned(),
            })?;
        let resolved = apache_avro::types::Value::try_from(value.clone())
            .and_then(|v| v.resolve(&writer.schema))
            .map_err(|e| avro_error(format!("the value does not fit the schema: {e}")))?;
        let mut out = BytesMut::with_capacity(128);
        wire::write_header(writer.id, &mut out);
        GenericDatumWriter::builder(&writer.schema)
            .build()
            .and_then(|datum| datum.write_value_ref(&mut (&mut out).writer(), &resolved))
            .map_err(avro_error)?;
        Ok(out.freeze())
    }
}

impl<T: Serialize + ?Sized> kiel::serialize::Serializer<T> for AvroSerializer<T> {
    fn serialize(&self, topic: &str, value: &T) -> kiel::Result<Bytes> {
        self.encode(topic, value)
            .map_err(|e| kiel::Error::Serialization(Arc::new(e)))
    }
}

/// Reads Avro values in the Confluent wire format, fetching each writer schema from the
/// registry once.
#[derive(Debug, Clone)]
pub struct AvroDeserializer {
    registry: RegistryClient,
    schemas: Arc<Mutex<HashMap<u32, Arc<apache_avro::Schema>>>>,
}

impl AvroDeserializer {
    /// A deserializer using `registry`.
    pub fn new(registry: RegistryClient) -> Self {
        Self {
            registry,
            schemas: Arc::default(),
        }
    }

    /// The writer schema for `id`.
    pub async fn writer_schema(&self, id: u32) -> Result<Arc<apache_avro::Schema>> {
        if let Some(schema) = lock(&self.schemas).get(&id) {
            return Ok(Arc::clone(schema));
        }
        let schema = self.registry.schema_by_id(id).await?;
        let text = avro_references::standalone(&self.registry, &schema).await?;
        let parsed = Arc::new(
            apache_avro::Schema::parse_str(&text)
                .map_err(|e| avro_error(format!("schema {id}: {e}")))?,
        );
        lock(&self.schemas).insert(id, Arc::clone(&parsed));
        Ok(parsed)
    }

    /// The schema id and the value in `bytes` as JSON (a union's value as the branch's
    /// own value, bytes as arrays of numbers).
    pub async fn deserialize_json(&self, bytes: &[u8]) -> Result<(u32, serde_json::Value)> {
        let (id, mut payload) = wire::split_header(bytes)?;
        let schema = self.writer_schema(id).await?;
        let value = GenericDatumReader::builder(&schema)
            .build()
            .and_then(|reader| reader.read_value(&mut payload))
            .and_then(serde_json::Value::try_from)
            .map_err(avro_error)?;
        Ok((id, value))
    }

    /// The schema id and the value in `bytes`.
    pub async fn deserialize<T: DeserializeOwned>(&self, bytes: &[u8]) -> Result<(u32, T)> {
        let (id, mut payload) = wire::split_header(bytes)?;
        let schema = self.writer_schema(id).await?;
        let reader = GenericDatumReader::builder(&schema)
            .build()
            .map_err(avro_error)?;
        let value = reader.read_deser(&mut payload).map_err(avro_error)?;
        Ok((id, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, apache_avro::AvroSchema)]
    struct Order {
        order_id: String,
        amount: f64,
        note: Option<String>,
        count: i32,
    }

    fn order_serializer() -> AvroSerializer<Order> {
        let registry =
            RegistryClient::from_url("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
        AvroSerializer::derived(registry)
    }

    #[test]
    fn values_are_written_after_the_header_of_their_topic_s_schema_id() {
        let serializer = order_serializer();
        let order = Order {
            order_id: "o-1".into(),
            amount: 12.5,
            note: None,
            count: 3,
        };
        assert!(matches!(
            serializer.encode("orders", &order),
            Err(Error::NotPrepared { topic }) if topic == "orders"
        ));
        lock(&serializer.writers).insert(
            "orders".into(),
            Writer::new(7, Arc::clone(&serializer.schema)),
        );
        let bytes = serializer
            .encode("orders", &order)
            .unwrap_or_else(|e| panic!("{e}"));
        let (id, mut payload) = wire::split_header(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, 7);
        let reader = GenericDatumReader::builder(&serializer.schema)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let back: Order = reader
            .read_deser(&mut payload)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, order);
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, apache_avro::AvroSchema)]
    struct Place {
        city: String,
    }

    /// The second `Place` is written as a reference to the first one's name.
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, apache_avro::AvroSchema)]
    struct Trip {
        from: Place,
        to: Place,
    }

    #[test]
    fn schemas_that_refer_to_a_name_are_written_with_their_names() {
        let order = Writer::new(1, Arc::new(Order::get_schema()));
        assert!(order.self_contained);
        let trip_schema = Arc::new(Trip::get_schema());
        let trip = Writer::new(2, Arc::clone(&trip_schema));
        assert!(!trip.self_contained, "{}", trip_schema.canonical_form());
        let value = Trip {
            from: Place {
                city: "Kiel".into(),
            },
            to: Place {
                city: "Oslo".into(),
            },
        };
        let mut out = BytesMut::new();
        trip.write(&value, &mut out)
            .unwrap_or_else(|e| panic!("{e}"));
        let reader = GenericDatumReader::builder(&trip_schema)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let back: Trip = reader
            .read_deser(&mut &out[..])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, value);
    }

    #[test]
    fn json_values_are_fitted_to_the_schema() {
        let registry =
            RegistryClient::from_url("http://127.0.0.1:9").unwrap_or_else(|e| panic!("{e}"));
        let serializer = AvroSerializer::<serde_json::Value>::with_schema(
            registry,
            r#"{"type":"record","name":"Reading","fields":[
                {"name":"id","type":"string"},
                {"name":"count","type":"int"},
                {"name":"ratio","type":"float"},
                {"name":"note","type":["null","string"],"default":null},
                {"name":"tags","type":{"type":"array","items":"string"}}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        lock(&serializer.writers).insert(
            "readings".into(),
            Writer::new(3, Arc::clone(&serializer.schema)),
        );
        let json = |text: &str| -> serde_json::Value {
            serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
        };
        let bytes = serializer
            .encode_json(
                "readings",
                &json(r#"{"id":"r-1","count":5,"ratio":0.5,"note":"hi","tags":["a","b"]}"#),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        let (id, mut payload) = wire::split_header(&bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, 3);
        let reader = GenericDatumReader::builder(&serializer.schema)
            .build()
            .unwrap_or_else(|e| panic!("{e}"));
        let back = reader
            .read_value(&mut payload)
            .and_then(serde_json::Value::try_from)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            back,
            json(r#"{"id":"r-1","count":5,"ratio":0.5,"note":"hi","tags":["a","b"]}"#)
        );
        // A missing field with a default takes it.
        assert!(serializer
            .encode_json(
                "readings",
                &json(r#"{"id":"r-2","count":1,"ratio":1,"tags":[]}"#)
            )
            .is_ok());
        for bad in [
            r#"{"id":"r-3","count":"five","ratio":1,"tags":[]}"#,
            r#"{"id":"r-4","ratio":1,"tags":[]}"#,
            r#"[1, 2]"#,
        ] {
            let result = serializer.encode_json("readings", &json(bad));
            assert!(
                matches!(&result, Err(Error::Serialization { format: "Avro", .. })),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn the_subject_follows_the_strategy_and_the_record_name() {
        let serializer = order_serializer();
        assert_eq!(
            serializer.subject("orders").ok().as_deref(),
            Some("orders-value")
        );
        assert_eq!(
            serializer.for_keys().subject("orders").ok().as_deref(),
            Some("orders-key")
        );
        let text = order_serializer().registry_schema().text;
        assert!(text.contains(r#""name":"Order""#), "{text}");
    }
}
