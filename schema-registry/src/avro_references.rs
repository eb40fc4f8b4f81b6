//! Avro schemas with references (a named type registered under another subject): the
//! registry stores the schema with the type's name only, so before Avro can read or write
//! with it, each referenced type's definition is put in place of the first use of its name
//! (later uses stay names, now defined). The binary encoding is the same: Avro does not
//! encode where a named type is defined.
//!
//! # References
//! - Confluent Schema Registry documentation, "Schema references" (Avro: the reference's
//!   name is the type's full name)
//! - Apache Avro specification, "Names"

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use crate::client::RegistryClient;
use crate::error::{Error, Result};
use crate::schema::Schema;

/// How deep references may refer to further references (a cycle ends here).
const MAX_DEPTH: usize = 32;

/// `schema`'s text with every referenced type defined in it, fetched from `registry`.
pub(crate) async fn standalone(registry: &RegistryClient, schema: &Schema) -> Result<String> {
    if schema.references.is_empty() {
        return Ok(schema.text.clone());
    }
    let document = resolve(registry, schema.clone(), 0).await?;
    serde_json::to_string(&document).map_err(|e| invalid(e.to_string()))
}

fn invalid(message: String) -> Error {
    Error::InvalidSchema { code: 0, message }
}

/// The schema as JSON, its references defined in it.
fn resolve(
    registry: &RegistryClient,
    schema: Schema,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<Value>> + Send + '_>> {
    Box::pin(async move {
        let mut document: Value = serde_json::from_str(&schema.text)
            .map_err(|e| invalid(format!("not Avro JSON: {e}")))?;
        if depth > MAX_DEPTH {
            return Err(invalid(format!(
                "schema references nested deeper than {MAX_DEPTH} (a cycle?)"
            )));
        }
        for reference in &schema.references {
            let referenced = registry
                .version(&reference.subject, reference.version)
                .await?;
            let definition = resolve(registry, referenced.schema, depth + 1).await?;
            if !define_at_first_use(&mut document, &reference.name, definition) {
                return Err(invalid(format!(
                    "the schema refers to `{}` (subject {} version {}) but never uses it",
                    reference.name, reference.subject, reference.version
                )));
            }
        }
        Ok(document)
    })
}

/// Replaces the first use of the type `name` in `schema` (where a type goes: a field's
/// `type`, `items`, `values`, a union's branch) with `definition`.
fn define_at_first_use(schema: &mut Value, name: &str, definition: Value) -> bool {
    let mut definition = Some(definition);
    visit_types(schema, name, &mut definition);
    definition.is_none()
}

fn visit_types(schema: &mut Value, name: &str, definition: &mut Option<Value>) {
    if definition.is_none() {
        return;
    }
    match schema {
        Value::String(used) if used == name => {
            if let Some(found) = definition.take() {
                *schema = found;
            }
        }
        Value::Array(branches) => {
            for branch in branches {
                visit_types(branch, name, definition);
            }
        }
        Value::Object(object) => {
            if let Some(Value::Array(fields)) = object.get_mut("fields") {
                for field in fields {
                    if let Some(field_type) = field.get_mut("type") {
                        visit_types(field_type, name, definition);
                    }
                }
            }
            for key in ["items", "values"] {
                if let Some(inner) = object.get_mut(key) {
                    visit_types(inner, name, definition);
                }
            }
            // `{"type": "shop.Money"}` and `{"type": {"type": "array", ...}}`.
            if let Some(inner @ (Value::String(_) | Value::Object(_))) = object.get_mut("type") {
                visit_types(inner, name, definition);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn the_first_use_gets_the_definition_and_later_ones_stay_names() {
        let mut schema = json(
            r#"{"type":"record","name":"Trip","fields":[
                {"name":"from","type":"geo.Place"},
                {"name":"stops","type":{"type":"array","items":"geo.Place"}},
                {"name":"note","type":["null","geo.Place"]}]}"#,
        );
        let place = json(r#"{"type":"record","name":"Place","namespace":"geo","fields":[]}"#);
        assert!(define_at_first_use(&mut schema, "geo.Place", place.clone()));
        assert_eq!(schema["fields"][0]["type"], place);
        assert_eq!(schema["fields"][1]["type"]["items"], json(r#""geo.Place""#));
        assert_eq!(schema["fields"][2]["type"][1], json(r#""geo.Place""#));
        // A schema that never uses the type.
        let mut named =
            json(r#"{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}"#);
        assert!(!define_at_first_use(&mut named, "geo.Place", place));
        let parsed = apache_avro::Schema::parse_str(&schema.to_string());
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn uses_inside_arrays_maps_and_unions_are_found() {
        let place = json(r#"{"type":"enum","name":"Kind","symbols":["A","B"]}"#);
        for text in [
            r#"{"type":"array","items":"Kind"}"#,
            r#"{"type":"map","values":"Kind"}"#,
            r#"["null","Kind"]"#,
        ] {
            let mut schema = json(text);
            assert!(
                define_at_first_use(&mut schema, "Kind", place.clone()),
                "{text}"
            );
            let parsed = apache_avro::Schema::parse_str(&schema.to_string());
            assert!(parsed.is_ok(), "{text}: {parsed:?}");
        }
    }
}
