//! Files the harness writes next to the brokers: Maven POMs and logging configurations.
//! They live in `testcontainers/resources/` and are compiled into the crate.
//!
//! # References
//! - log4j2 properties configuration:
//!   <https://logging.apache.org/log4j/2.x/manual/configuration.html#Properties>
//! - reload4j (log4j 1.2) `PropertyConfigurator`

use crate::version::LoggingBackend;

/// The POM that collects the broker and tools jars (`@KAFKA_VERSION@` to replace).
pub(crate) const KAFKA_POM: &str = include_str!("../resources/kafka-pom.xml");

/// The POM that adds a missing logging binding (`@DEPENDENCIES@` to replace).
pub(crate) const LOGGING_POM: &str = include_str!("../resources/logging-pom.xml");

const BROKER_LOG4J2: &str = include_str!("../resources/broker-log4j2.properties");
const TOOLS_LOG4J2: &str = include_str!("../resources/tools-log4j2.properties");
const BROKER_LOG4J: &str = include_str!("../resources/broker-log4j.properties");
const TOOLS_LOG4J: &str = include_str!("../resources/tools-log4j.properties");

/// The broker's logging configuration for `backend`: everything at INFO to stdout.
pub(crate) const fn broker_log_config(backend: LoggingBackend) -> &'static str {
    match backend {
        LoggingBackend::Log4j2 => BROKER_LOG4J2,
        LoggingBackend::Reload4j => BROKER_LOG4J,
    }
}

/// The tools' logging configuration for `backend`: warnings to stderr only.
pub(crate) const fn tools_log_config(backend: LoggingBackend) -> &'static str {
    match backend {
        LoggingBackend::Log4j2 => TOOLS_LOG4J2,
        LoggingBackend::Reload4j => TOOLS_LOG4J,
    }
}
