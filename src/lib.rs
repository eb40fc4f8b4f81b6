//! kiel: a pure-Rust Apache Kafka producer. (being written)
pub use kiel_protocol as protocol;
pub mod partitioner;
