//! Which subject a record's schema is registered under.
//!
//! # References
//! - Confluent Schema Registry documentation, "Subject name strategy"

use crate::error::{Error, Result};

/// Whether a schema is for record keys or values (TopicNameStrategy's suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The record key.
    Key,
    /// The record value.
    Value,
}

/// How the subject is named (`subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` / `<topic>-value`: one schema (and its versions) per topic.
    #[default]
    TopicName,
    /// The record type's full name: one type, any topic.
    RecordName,
    /// `<topic>-<record full name>`: several types per topic.
    TopicRecordName,
}

impl SubjectNameStrategy {
    /// The strategy a `subject.name.strategy` setting names: the short names, or Confluent's
    /// Java class names (`io.confluent.kafka.serializers.subject.TopicNameStrategy`).
    pub fn from_setting(value: &str) -> Result<Self> {
        let short = value.rsplit('.').next().unwrap_or(value);
        match short {
            "TopicNameStrategy" | "topic_name" => Ok(Self::TopicName),
            "RecordNameStrategy" | "record_name" => Ok(Self::RecordName),
            "TopicRecordNameStrategy" | "topic_record_name" => Ok(Self::TopicRecordName),
            _ => Err(Error::config(
                "subject.name.strategy",
                format!(
                    "`{value}` is not TopicNameStrategy, RecordNameStrategy or \
                     TopicRecordNameStrategy"
                ),
            )),
        }
    }

    /// The subject for a record of type `record_name` (a full name, e.g. `shop.Order`) in
    /// `topic`. The record-name strategies need the name.
    pub fn subject(self, topic: &str, field: Field, record_name: Option<&str>) -> Result<String> {
        let record = || {
            record_name.ok_or_else(|| {
                Error::config(
                    "subject.name.strategy",
                    "RecordNameStrategy and TopicRecordNameStrategy need a named record type",
                )
            })
        };
        Ok(match self {
            Self::TopicName => match field {
                Field::Key => format!("{topic}-key"),
                Field::Value => format!("{topic}-value"),
            },
            Self::RecordName => record()?.to_owned(),
            Self::TopicRecordName => format!("{topic}-{}", record()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_follow_the_strategy() {
        let value = Field::Value;
        let named = Some("shop.Order");
        let topic = SubjectNameStrategy::TopicName;
        assert_eq!(
            topic.subject("orders", value, named).ok().as_deref(),
            Some("orders-value")
        );
        assert_eq!(
            topic.subject("orders", Field::Key, None).ok().as_deref(),
            Some("orders-key")
        );
        let record = SubjectNameStrategy::RecordName;
        assert_eq!(
            record.subject("orders", value, named).ok().as_deref(),
            Some("shop.Order")
        );
        assert!(record.subject("orders", value, None).is_err());
        let both = SubjectNameStrategy::TopicRecordName;
        assert_eq!(
            both.subject("orders", value, named).ok().as_deref(),
            Some("orders-shop.Order")
        );
    }

    #[test]
    fn strategies_by_short_and_java_names() {
        for (name, strategy) in [
            ("TopicNameStrategy", SubjectNameStrategy::TopicName),
            (
                "io.confluent.kafka.serializers.subject.RecordNameStrategy",
                SubjectNameStrategy::RecordName,
            ),
            (
                "TopicRecordNameStrategy",
                SubjectNameStrategy::TopicRecordName,
            ),
        ] {
            assert_eq!(SubjectNameStrategy::from_setting(name).ok(), Some(strategy));
        }
        assert!(SubjectNameStrategy::from_setting("Nope").is_err());
    }
}
