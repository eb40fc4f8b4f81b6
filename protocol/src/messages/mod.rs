//! One module per API message. Each holds the request and response structs, their
//! [`Encode`](crate::Encode)/[`Decode`](crate::Decode) implementations for every version in
//! the API's range, the [`Request`](crate::Request) declaration, and its tests.
//!
//! Version-gated fields are documented with the version that added them.
//!
//! # References
//! - Message JSON schemas in apache/kafka `clients/src/main/resources/common/message/`

pub mod api_versions;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;
