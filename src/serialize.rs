//! Producing typed values: a [`Serializer`] turns a value into bytes, a [`KeyMaker`] derives
//! the record key from the value (as the Python kiel's `key_maker` does), and
//! [`TypedProducer`] puts them in front of a [`Producer`].
//!
//! ```no_run
//! # async fn example() -> kiel::Result<()> {
//! use kiel::serialize::{KeyMaker, TypedProducer, Utf8};
//!
//! struct FirstWord;
//! impl KeyMaker<String> for FirstWord {
//!     fn key(&self, value: &String) -> Option<bytes::Bytes> {
//!         value.split(' ').next().map(|w| bytes::Bytes::copy_from_slice(w.as_bytes()))
//!     }
//! }
//!
//! let producer = kiel::Producer::new("127.0.0.1:9092").await?;
//! let typed = TypedProducer::new(producer, Utf8).with_key_maker(FirstWord);
//! typed.produce("words", &"hello world".to_string())?.await?;
//! # Ok(())
//! # }
//! ```
//!
//! With the `json` feature, `Json` serializes any `serde::Serialize` value as JSON.
//!
//! # References
//! - the Python kiel `Producer(serializer=..., key_maker=...)` (the seed this follows)

use std::sync::Arc;

use bytes::Bytes;

use crate::delivery::DeliveryFuture;
#[cfg(feature = "json")]
use crate::error::Error;
use crate::error::Result;
use crate::producer::Producer;
use crate::record::Record;

/// Turns a value into the bytes of a record value.
pub trait Serializer<T: ?Sized>: Send + Sync {
    /// Serializes `value` for `topic`. An error refuses the record before anything is sent.
    fn serialize(&self, topic: &str, value: &T) -> Result<Bytes>;
}

/// Derives a record key from a value; `None` is a null key.
pub trait KeyMaker<T: ?Sized>: Send + Sync {
    /// The key for `value`.
    fn key(&self, value: &T) -> Option<Bytes>;
}

/// No key: records are spread by the partitioner's null-key rule.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoKey;

impl<T: ?Sized> KeyMaker<T> for NoKey {
    fn key(&self, _: &T) -> Option<Bytes> {
        None
    }
}

impl<T: ?Sized, F> KeyMaker<T> for F
where
    F: Fn(&T) -> Option<Bytes> + Send + Sync,
{
    fn key(&self, value: &T) -> Option<Bytes> {
        self(value)
    }
}

/// Writes strings as their UTF-8 bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Utf8;

impl<T: AsRef<str> + ?Sized> Serializer<T> for Utf8 {
    fn serialize(&self, _: &str, value: &T) -> Result<Bytes> {
        Ok(Bytes::copy_from_slice(value.as_ref().as_bytes()))
    }
}

/// Writes any `serde::Serialize` value as JSON (feature `json`).
#[cfg(feature = "json")]
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

#[cfg(feature = "json")]
impl<T: serde::Serialize + ?Sized> Serializer<T> for Json {
    fn serialize(&self, _: &str, value: &T) -> Result<Bytes> {
        serde_json::to_vec(value)
            .map(Bytes::from)
            .map_err(|e| Error::Serialization(Arc::new(e)))
    }
}

/// A [`Producer`] for values of type `T`.
pub struct TypedProducer<T: ?Sized> {
    producer: Producer,
    serializer: Arc<dyn Serializer<T>>,
    key_maker: Arc<dyn KeyMaker<T>>,
}

impl<T: ?Sized> Clone for TypedProducer<T> {
    fn clone(&self) -> Self {
        Self {
            producer: self.producer.clone(),
            serializer: Arc::clone(&self.serializer),
            key_maker: Arc::clone(&self.key_maker),
        }
    }
}

impl<T: ?Sized> std::fmt::Debug for TypedProducer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TypedProducer")
            .field("producer", &self.producer)
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized + 'static> TypedProducer<T> {
    /// Wraps `producer`, serializing values with `serializer` and no key.
    pub fn new(producer: Producer, serializer: impl Serializer<T> + 'static) -> Self {
        Self {
            producer,
            serializer: Arc::new(serializer),
            key_maker: Arc::new(NoKey),
        }
    }

    /// Derives each record's key with `key_maker`.
    pub fn with_key_maker(mut self, key_maker: impl KeyMaker<T> + 'static) -> Self {
        self.key_maker = Arc::new(key_maker);
        self
    }

    /// The record `value` becomes for `topic`.
    pub fn record(&self, topic: &str, value: &T) -> Result<Record> {
        let bytes = self.serializer.serialize(topic, value)?;
        let mut record = Record::value(bytes);
        record.key = self.key_maker.key(value);
        Ok(record)
    }

    /// Serializes and queues `value` (see [`Producer::produce`]).
    pub fn produce(&self, topic: &str, value: &T) -> Result<DeliveryFuture> {
        self.producer.produce(topic, self.record(topic, value)?)
    }

    /// Serializes `value`, waits for room, and waits for the acknowledgement (see
    /// [`Producer::send`]).
    pub async fn send(&self, topic: &str, value: &T) -> Result<crate::RecordMetadata> {
        let record = self.record(topic, value)?;
        self.producer.send(topic, record).await
    }

    /// The underlying producer (for flush and close).
    pub fn producer(&self) -> &Producer {
        &self.producer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_maker_closures_and_utf8() {
        let maker = |v: &str| Some(Bytes::copy_from_slice(&v.as_bytes()[..1]));
        assert_eq!(maker.key("abc").as_deref(), Some(&b"a"[..]));
        assert_eq!(Utf8.serialize("t", "héllo").map(|b| b.len()).ok(), Some(6));
        assert_eq!(KeyMaker::<str>::key(&NoKey, "x"), None);
    }

    #[cfg(feature = "json")]
    #[test]
    fn json_serializes_serde_values() {
        #[derive(serde::Serialize)]
        struct Event {
            id: u32,
            name: &'static str,
        }
        let bytes = Json
            .serialize("t", &Event { id: 7, name: "x" })
            .unwrap_or_default();
        assert_eq!(&bytes[..], br#"{"id":7,"name":"x"}"#);
    }
}
