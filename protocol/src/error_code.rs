//! The Kafka error-code table. (being written)

/// A Kafka error code. (being written)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Any code.
    Unknown(i16),
}
