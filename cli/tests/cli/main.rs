//! The `kiel` binary end to end: it is run as a process (`CARGO_BIN_EXE_kiel`) against a real
//! Apache Kafka (kiel-testcontainers' shared cluster, or `KAFKA_BOOTSTRAP`; `secured` uses the
//! shared secured cluster, always started locally), and what it wrote is read back with
//! Kafka's own console consumer. Output lines are matched exactly.

mod perf;
mod produce;
mod produce_options;
mod schema_registry;
mod secured;
mod support;
mod usage;
