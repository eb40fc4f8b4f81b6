//! One module per API message. Each holds the request and response structs, their
//! [`Encode`](crate::Encode)/[`Decode`](crate::Decode) implementations for every version in
//! the API's range, the [`Request`](crate::Request) declaration, and its tests.
//!
//! Version-gated fields are documented with the version that added them.
//!
//! # Adding a message
//!
//! A message file holds only what is particular to its API: its fields and which versions
//! carry them. What every message needs is shared: the wire types in [`crate::primitives`],
//! the flexible-version pieces in `messages/common.rs` (crate-private) and the tests in
//! `messages/test_util.rs`. For a new API, say EndTxn:
//!
//! 1. In `api.rs`, add the [`ApiKey`](crate::ApiKey) variant, its code and its name.
//! 2. Write `messages/end_txn.rs` and declare it below. Its module docs give the wire layout
//!    by version and end with `# References` (the JSON schemas in apache/kafka, the KIPs).
//!    Document each field with the version that added it and its default.
//! 3. `impl Request for EndTxnRequest`: `API_KEY`, `VERSIONS`, `FIRST_FLEXIBLE_VERSION`,
//!    `Response`.
//! 4. `Encode`, for the request and the response: `check_encode_version::<EndTxnRequest>`;
//!    then `common::check_field` for each field the schema does not mark ignorable, before
//!    anything is written; then `let flexible = EndTxnRequest::is_flexible(version)` and the
//!    fields, with the [`crate::primitives`] writers (strings, bytes and arrays take
//!    `flexible`); ignorable fields a version lacks are left out. Every struct, nested ones
//!    included, ends with `common::put_tags(buf, flexible)`. A tagged field the codec knows
//!    is built with `common::tagged_field`.
//! 5. `Decode`, the mirror image: `check_decode_version::<EndTxnRequest>`, the fields (those
//!    a version lacks take their defaults), `common::skip_tags(buf, flexible)` at the end of
//!    every struct, `common::read_tagged_field` for known tagged fields. Arrays of structs
//!    are read with [`get_array`](crate::primitives::get_array) and the element's smallest
//!    size, added up from `common::min_string_len`, `min_array_len` and `tags_len`.
//! 6. Tests, in the file's `mod tests`: a strategy per side giving, for a version, the
//!    values that version can carry (`test_util::since(version >= 2, any::<i32>(), -1)` for
//!    a field added in v2), then
//!
//!    ```text
//!    message_tests! {
//!        request: EndTxnRequest = request_for,
//!        response: EndTxnResponse = response_for,
//!    }
//!    ```
//!
//!    for the round trips in every version (with every-prefix truncation and a trailing
//!    byte refused), versions outside the range and decoders that never panic; and bytes
//!    written by hand from the protocol guide, or captured from Kafka, checked with
//!    `test_util::assert_encodes_to(&value, version, &bytes)`. A field some versions cannot
//!    carry is checked with `assert_not_ignorable` (every version without it refuses the
//!    value) or `over_the_wire` (ignorable: it comes back as its default).
//! 7. Outside this crate: a decode target in `fuzz/` and, once a capture exists, the golden
//!    frames in `tests/golden/`.
//!
//! # References
//! - Message JSON schemas in apache/kafka `clients/src/main/resources/common/message/`
//! - KIP-482 (flexible versions)

pub mod add_offsets_to_txn;
pub mod add_partitions_to_txn;
pub mod api_versions;
mod common;
pub mod end_txn;
pub mod find_coordinator;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;
pub mod sasl_authenticate;
pub mod sasl_handshake;
pub mod txn_offset_commit;

#[cfg(test)]
mod test_util;
