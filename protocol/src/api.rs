//! What every API message declares: its key, the versions this codec speaks, and the first
//! flexible version; plus the [`Encode`] / [`Decode`] traits the message files implement.
//!
//! # References
//! - Kafka protocol guide, "Common Request and Response Structure":
//!   <https://kafka.apache.org/protocol#protocol_common>
//! - KIP-482 (flexible versions)

use bytes::{BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};

/// The API keys this codec knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ApiKey {
    /// Produce (0).
    Produce,
    /// Metadata (3).
    Metadata,
    /// FindCoordinator (10).
    FindCoordinator,
    /// SaslHandshake (17).
    SaslHandshake,
    /// ApiVersions (18).
    ApiVersions,
    /// InitProducerId (22).
    InitProducerId,
    /// AddPartitionsToTxn (24).
    AddPartitionsToTxn,
    /// AddOffsetsToTxn (25).
    AddOffsetsToTxn,
    /// EndTxn (26).
    EndTxn,
    /// TxnOffsetCommit (28).
    TxnOffsetCommit,
    /// SaslAuthenticate (36).
    SaslAuthenticate,
}

impl ApiKey {
    /// The numeric key on the wire.
    pub const fn code(self) -> i16 {
        match self {
            Self::Produce => 0,
            Self::Metadata => 3,
            Self::FindCoordinator => 10,
            Self::SaslHandshake => 17,
            Self::ApiVersions => 18,
            Self::InitProducerId => 22,
            Self::AddPartitionsToTxn => 24,
            Self::AddOffsetsToTxn => 25,
            Self::EndTxn => 26,
            Self::TxnOffsetCommit => 28,
            Self::SaslAuthenticate => 36,
        }
    }

    /// The key for a numeric code, if this codec knows it.
    pub const fn from_code(code: i16) -> Option<Self> {
        match code {
            0 => Some(Self::Produce),
            3 => Some(Self::Metadata),
            10 => Some(Self::FindCoordinator),
            17 => Some(Self::SaslHandshake),
            18 => Some(Self::ApiVersions),
            22 => Some(Self::InitProducerId),
            24 => Some(Self::AddPartitionsToTxn),
            25 => Some(Self::AddOffsetsToTxn),
            26 => Some(Self::EndTxn),
            28 => Some(Self::TxnOffsetCommit),
            36 => Some(Self::SaslAuthenticate),
            _ => None,
        }
    }

    /// The API's name as Kafka spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Produce => "Produce",
            Self::Metadata => "Metadata",
            Self::FindCoordinator => "FindCoordinator",
            Self::SaslHandshake => "SaslHandshake",
            Self::ApiVersions => "ApiVersions",
            Self::InitProducerId => "InitProducerId",
            Self::AddPartitionsToTxn => "AddPartitionsToTxn",
            Self::AddOffsetsToTxn => "AddOffsetsToTxn",
            Self::EndTxn => "EndTxn",
            Self::TxnOffsetCommit => "TxnOffsetCommit",
            Self::SaslAuthenticate => "SaslAuthenticate",
        }
    }
}

impl std::fmt::Display for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}({})", self.name(), self.code())
    }
}

/// An inclusive range of API versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VersionRange {
    /// The lowest version.
    pub min: i16,
    /// The highest version.
    pub max: i16,
}

impl VersionRange {
    /// A range from `min` to `max`, both included.
    pub const fn new(min: i16, max: i16) -> Self {
        Self { min, max }
    }

    /// Whether `version` is inside the range.
    pub const fn contains(self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }

    /// Every version in the range, lowest first.
    pub fn iter(self) -> impl Iterator<Item = i16> {
        self.min..=self.max
    }
}

/// A message body that can be written in a given version.
pub trait Encode {
    /// Writes the body (no size prefix, no header) in `version`.
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError>;
}

/// A message body that can be read in a given version.
pub trait Decode: Sized {
    /// Reads the body from `buf` in `version`. Implementations consume exactly one message and
    /// leave anything after it in `buf`; [`decode_exact`] checks that nothing is left.
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError>;
}

/// A request message: its key, versions, flexible versions and response type.
pub trait Request: Encode {
    /// The API key.
    const API_KEY: ApiKey;
    /// The versions this codec encodes and decodes.
    const VERSIONS: VersionRange;
    /// The first version that uses the flexible (compact, tagged) encoding. An API with no
    /// flexible version (`"flexibleVersions": "none"` in its schema, e.g. SaslHandshake)
    /// sets `i16::MAX`, above any version it has.
    const FIRST_FLEXIBLE_VERSION: i16;
    /// The matching response.
    type Response: Decode;

    /// Whether `version` is flexible for this API.
    fn is_flexible(version: i16) -> bool {
        version >= Self::FIRST_FLEXIBLE_VERSION
    }

    /// The request header version for `version` (2 when flexible, otherwise 1).
    fn request_header_version(version: i16) -> i16 {
        if Self::is_flexible(version) {
            2
        } else {
            1
        }
    }

    /// The response header version for `version` (1 when flexible, otherwise 0).
    /// ApiVersions overrides this: its response header is always v0 (KIP-511).
    fn response_header_version(version: i16) -> i16 {
        if Self::is_flexible(version) {
            1
        } else {
            0
        }
    }
}

/// Fails with [`EncodeError::UnsupportedVersion`] when `version` is outside `R::VERSIONS`.
pub fn check_encode_version<R: Request>(version: i16) -> Result<(), EncodeError> {
    if R::VERSIONS.contains(version) {
        Ok(())
    } else {
        Err(EncodeError::UnsupportedVersion {
            api_key: R::API_KEY.code(),
            version,
        })
    }
}

/// Fails with [`DecodeError::UnsupportedVersion`] when `version` is outside `R::VERSIONS`.
pub fn check_decode_version<R: Request>(version: i16) -> Result<(), DecodeError> {
    if R::VERSIONS.contains(version) {
        Ok(())
    } else {
        Err(DecodeError::UnsupportedVersion {
            api_key: R::API_KEY.code(),
            version,
        })
    }
}

/// Decodes one `T` from the whole of `buf`; bytes left over are an error.
pub fn decode_exact<T: Decode>(mut buf: Bytes, version: i16) -> Result<T, DecodeError> {
    let value = T::decode(&mut buf, version)?;
    crate::primitives::expect_empty(&buf)?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [ApiKey; 11] = [
        ApiKey::Produce,
        ApiKey::Metadata,
        ApiKey::FindCoordinator,
        ApiKey::SaslHandshake,
        ApiKey::ApiVersions,
        ApiKey::InitProducerId,
        ApiKey::AddPartitionsToTxn,
        ApiKey::AddOffsetsToTxn,
        ApiKey::EndTxn,
        ApiKey::TxnOffsetCommit,
        ApiKey::SaslAuthenticate,
    ];

    #[test]
    fn codes_and_names_round_trip_and_order_follows_the_code() {
        for key in ALL {
            assert_eq!(ApiKey::from_code(key.code()), Some(key), "{key}");
            assert_eq!(key.to_string(), format!("{}({})", key.name(), key.code()));
        }
        for pair in ALL.windows(2) {
            assert!(pair[0] < pair[1] && pair[0].code() < pair[1].code());
        }
        assert_eq!(ApiKey::SaslHandshake.to_string(), "SaslHandshake(17)");
        assert_eq!(ApiKey::SaslAuthenticate.to_string(), "SaslAuthenticate(36)");
        assert_eq!(ApiKey::from_code(1), None);
    }
}
