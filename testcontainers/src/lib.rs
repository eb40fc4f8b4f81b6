//! Real Apache Kafka brokers for tests. (being written)
