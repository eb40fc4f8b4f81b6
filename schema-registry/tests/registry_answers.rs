//! Each kind of registry answer the client types, from the real registry (kiel-testcontainers'
//! Apicurio Registry, the Confluent-compatible API): subject, version and id not found,
//! an invalid schema, compatibility checks, and schema references (an Avro record using a
//! named type registered under another subject), written and read back with them.

mod common;

use kiel_schema_registry::{
    AvroDeserializer, AvroSerializer, Error, RegistryClient, RegistryConfig, Schema,
};

use common::{registry, unique};

fn client(url: &str) -> RegistryClient {
    RegistryClient::from_url(url).unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_subjects_versions_and_ids_and_invalid_schemas_are_typed() {
    let registry = registry().await;
    let client = client(&registry.url());
    let subject = unique("answers-value");

    let latest = client.latest(&subject).await;
    assert!(
        matches!(&latest, Err(Error::SubjectNotFound { subject: s }) if *s == subject),
        "{latest:?}"
    );
    let id = client
        .register(&subject, &Schema::avro(r#"{"type":"string"}"#))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let version = client.version(&subject, 7).await;
    assert!(
        matches!(&version, Err(Error::VersionNotFound { version, .. }) if version == "7"),
        "{version:?}"
    );
    let by_id = client.schema_by_id(id + 100_000).await;
    assert!(
        matches!(by_id, Err(Error::SchemaNotFound { id: missing }) if missing == id + 100_000),
        "{by_id:?}"
    );
    let invalid = client
        .register(&subject, &Schema::avro(r#"{"type":"record","name":"X"}"#))
        .await;
    assert!(
        matches!(invalid, Err(Error::InvalidSchema { .. })),
        "{invalid:?}"
    );
    // Looked up but never registered under the subject.
    let unknown = client
        .lookup(&subject, &Schema::avro(r#"{"type":"long"}"#))
        .await;
    assert!(unknown.is_err(), "{unknown:?}");
    println!("latest: {latest:?}\nversion: {version:?}\nid: {by_id:?}\ninvalid: {invalid:?}\nunknown: {unknown:?}");

    // Compatibility: under BACKWARD, string -> long is not compatible, and nothing changes.
    client
        .set_compatibility(&subject, "BACKWARD")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let compatible = client
        .is_compatible(&subject, &Schema::avro(r#"{"type":"long"}"#))
        .await;
    assert_eq!(compatible.ok(), Some(false));
    assert_eq!(
        client.latest(&subject).await.ok().map(|s| s.version),
        Some(1),
        "the check registered nothing"
    );
}

const MONEY: &str = r#"{"type":"record","name":"Money","namespace":"shop",
  "fields":[{"name":"cents","type":"long"},{"name":"currency","type":"string"}]}"#;

const INVOICE: &str = r#"{"type":"record","name":"Invoice","namespace":"shop",
  "fields":[{"name":"invoice_id","type":"string"},{"name":"total","type":"shop.Money"}]}"#;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Money {
    cents: i64,
    currency: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Invoice {
    invoice_id: String,
    total: Money,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schema_referring_to_another_subject_is_written_and_read_with_its_reference() {
    let (kafka, registry) = tokio::join!(common::kafka(), registry());
    let client = client(&registry.url());
    let money_subject = unique("shop.Money");
    let money_id = client
        .register(&money_subject, &Schema::avro(MONEY))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let topic = unique("invoices");
    kafka
        .create_topic(&topic, 1, 1, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let invoice = Schema::avro(INVOICE).with_reference("shop.Money", &money_subject, 1);
    let invoice_id = client
        .register(&format!("{topic}-value"), &invoice)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(invoice_id, money_id);
    let stored = client
        .schema_by_id(invoice_id)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(stored.references, invoice.references, "{stored:?}");
    assert!(stored.text.contains(r#""type":"shop.Money""#), "{stored:?}");

    // Without the reference, the registry cannot resolve shop.Money.
    let unresolved = client
        .register(&unique("invoices-value"), &Schema::avro(INVOICE))
        .await;
    assert!(unresolved.is_err(), "{unresolved:?}");

    // Written with the subject's latest schema (the one with the reference): its id, and
    // shop.Money fetched from its own subject to know how to write it.
    let latest = RegistryConfig::from_properties([
        ("schema.registry.url", registry.url().as_str()),
        ("use.latest.version", "true"),
        ("auto.register.schemas", "false"),
    ])
    .and_then(RegistryClient::new)
    .unwrap_or_else(|e| panic!("{e}"));
    let own_schema = format!(
        r#"{{"type":"record","name":"Invoice","namespace":"shop","fields":[
            {{"name":"invoice_id","type":"string"}},{{"name":"total","type":{MONEY}}}]}}"#
    );
    let serializer = AvroSerializer::<Invoice>::with_schema(latest, &own_schema)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(serializer.prepare(&topic).await.ok(), Some(invoice_id));
    let invoices: Vec<Invoice> = (0..5)
        .map(|i| Invoice {
            invoice_id: format!("inv-{i}"),
            total: Money {
                cents: 1250 * i,
                currency: "EUR".into(),
            },
        })
        .collect();
    let bytes = serializer
        .encode(&topic, &invoices[1])
        .unwrap_or_else(|e| panic!("{e}"));
    let (id, back): (u32, Invoice) = AvroDeserializer::new(client)
        .deserialize(&bytes)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((id, &back), (invoice_id, &invoices[1]));

    // confluent-kafka resolves the reference on its own and reads the same.
    let producer = kiel::Producer::new(&kafka.bootstrap())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let typed = kiel::serialize::TypedProducer::new(producer.clone(), serializer);
    common::produce_all(&typed, &topic, &invoices).await;
    producer.close().await;
    let read = common::read_with_confluent_kafka(
        &kafka.bootstrap(),
        &topic,
        &registry.url(),
        invoices.len(),
        "avro",
        &[],
    )
    .await;
    let values: Vec<Invoice> = read
        .iter()
        .map(|r| {
            assert_eq!(r["schema_id"], serde_json::json!(invoice_id), "{r}");
            serde_json::from_value(r["value"].clone()).unwrap_or_else(|e| panic!("{e}: {r}"))
        })
        .collect();
    assert_eq!(values, invoices);
}
