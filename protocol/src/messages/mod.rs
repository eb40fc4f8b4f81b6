//! One module per API message. Each holds the request and response structs, their
//! [`Encode`](crate::Encode)/[`Decode`](crate::Decode) implementations for every version in
//! the API's range, the [`Request`](crate::Request) declaration, and its tests.
//!
//! Version-gated fields are documented with the version that added them.
//!
//! # References
//! - Message JSON schemas in apache/kafka `clients/src/main/resources/common/message/`

pub mod api_versions;
mod common;
pub mod init_producer_id;
pub mod metadata;
pub mod produce;

/// Helpers the message tests share: round trips and the truncation check.
#[cfg(test)]
pub(crate) mod test_util {
    use bytes::{Bytes, BytesMut};

    use crate::api::{decode_exact, Decode, Encode};

    /// Encodes `value` in `version`, checks that decoding gives it back and uses every byte,
    /// and that every proper prefix of the encoding fails to decode. Returns the encoding.
    pub(crate) fn assert_round_trip<T>(value: &T, version: i16) -> Bytes
    where
        T: Encode + Decode + PartialEq + std::fmt::Debug,
    {
        let mut buf = BytesMut::new();
        value
            .encode(&mut buf, version)
            .unwrap_or_else(|e| panic!("encode v{version} failed: {e}"));
        let bytes = buf.freeze();
        let decoded: T = decode_exact(bytes.clone(), version)
            .unwrap_or_else(|e| panic!("decode v{version} failed: {e}"));
        assert_eq!(&decoded, value, "round trip at v{version}");
        assert_truncations_fail::<T>(&bytes, version);
        bytes
    }

    /// Every proper prefix of `bytes` must fail to decode as a whole message.
    pub(crate) fn assert_truncations_fail<T: Decode + std::fmt::Debug>(
        bytes: &Bytes,
        version: i16,
    ) {
        for n in 0..bytes.len() {
            let result = decode_exact::<T>(bytes.slice(..n), version);
            assert!(
                result.is_err(),
                "prefix of {n}/{} bytes decoded at v{version}: {result:?}",
                bytes.len()
            );
        }
    }
}
