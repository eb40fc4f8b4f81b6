//! ApiVersions (API key 18), versions 0 to 4: the first request on every connection, and
//! the version negotiation that follows from its answer.
//!
//! Wire layout (flexible from v3):
//!
//! ```text
//! request   v0-v2: empty body
//!           v3+:   client_software_name COMPACT_STRING, client_software_version COMPACT_STRING,
//!                  TAG_BUFFER
//! response  error_code INT16
//!           api_keys [api_key INT16, min_version INT16, max_version INT16, TAG_BUFFER (v3+)]
//!           throttle_time_ms INT32 (v1+)
//!           TAG_BUFFER (v3+): 0 = supported_features, 1 = finalized_features_epoch,
//!                             2 = finalized_features, 3 = zk_migration_ready
//! ```
//!
//! Two things are special about ApiVersions:
//!
//! - Its response header is always v0, even for the flexible v3 and v4 (KIP-511), so
//!   [`Request::response_header_version`] is overridden to return 0.
//! - A broker that does not know the requested version answers in v0 with
//!   `UNSUPPORTED_VERSION` (35) and lists its own ApiVersions range.
//!   [`ApiVersionsResponse::decode_with_fallback`] reads such an answer the way the Java
//!   client does.
//!
//! Negotiation picks, per API, the highest version both sides speak ([`negotiate`],
//! [`ApiVersionsResponse::version_for`]). Produce is special: Kafka 4.x brokers advertise
//! `min_version = 0` for Produce although they reject v0-v2 (KAFKA-18659), so
//! [`negotiate_produce`] never uses the advertised minimum and refuses anything below v3.
//!
//! # References
//! - `ApiVersionsRequest.json`, `ApiVersionsResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-511 (client software name and version, v0 response header, v0 fallback)
//! - KIP-584 (supported and finalized features)
//! - KAFKA-18659 / apache/kafka#18727 (Produce `min_version` 0 advertised by 4.x brokers)
//! - Kafka protocol guide, "Retrieving Supported API versions":
//!   <https://kafka.apache.org/protocol#api_versions>

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, decode_exact, ApiKey, Decode, Encode, Request,
    VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{put_tags, read_tagged_field, skip_tags, tagged_field, tags_len};
use crate::primitives::{
    get_array, get_bool, get_i16, get_i32, get_i64, get_string, get_tagged_fields, put_array,
    put_bool, put_string, put_tagged_fields, RawTaggedField,
};

/// The error code a broker sets when it does not support the requested ApiVersions version.
const UNSUPPORTED_VERSION: i16 = 35;

/// The first flexible version of ApiVersions.
const FIRST_FLEXIBLE: i16 = 3;

/// Tags of the response's tagged fields (v3+).
const TAG_SUPPORTED_FEATURES: u32 = 0;
const TAG_FINALIZED_FEATURES_EPOCH: u32 = 1;
const TAG_FINALIZED_FEATURES: u32 = 2;
const TAG_ZK_MIGRATION_READY: u32 = 3;

/// The lowest Produce version this client will use. Kafka 4.0 removed v0-v2.
pub const MIN_PRODUCE_VERSION: i16 = 3;

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

/// The ApiVersions request.
///
/// v0-v2 have an empty body: the two fields below are **not sent** below v3, whatever they
/// hold (they are ignorable in Kafka's schema). In v3+ both are non-null strings; `None` is
/// written as the empty string (the schema default), and decoding v3+ always gives `Some`.
/// A broker rejects names that do not pass [`is_valid_client_software_field`] with
/// `INVALID_REQUEST` (42).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiVersionsRequest {
    /// The client's name, e.g. `kiel` (v3+).
    pub client_software_name: Option<String>,
    /// The client's version, e.g. `0.1.0` (v3+).
    pub client_software_version: Option<String>,
}

impl ApiVersionsRequest {
    /// A request that names this client software.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            client_software_name: Some(name.into()),
            client_software_version: Some(version.into()),
        }
    }

    /// Whether both software fields are set and pass [`is_valid_client_software_field`].
    pub fn has_valid_software_fields(&self) -> bool {
        [&self.client_software_name, &self.client_software_version]
            .iter()
            .all(|field| field.as_deref().is_some_and(is_valid_client_software_field))
    }
}

/// Whether `value` passes the broker's check on `client_software_name` and
/// `client_software_version`: the regex `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`
/// matched against the whole string. That is: not empty, ASCII letters, digits, `-` and `.`
/// only, starting and ending with a letter or digit.
pub fn is_valid_client_software_field(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'.')
}

impl Encode for ApiVersionsRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        if !Self::is_flexible(version) {
            return Ok(());
        }
        put_string(
            buf,
            self.client_software_name.as_deref().unwrap_or(""),
            true,
        )?;
        put_string(
            buf,
            self.client_software_version.as_deref().unwrap_or(""),
            true,
        )?;
        put_tags(buf, true);
        Ok(())
    }
}

impl Decode for ApiVersionsRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        if !Self::is_flexible(version) {
            return Ok(Self::default());
        }
        let client_software_name = Some(get_string(buf, true)?);
        let client_software_version = Some(get_string(buf, true)?);
        skip_tags(buf, true)?;
        Ok(Self {
            client_software_name,
            client_software_version,
        })
    }
}

impl Request for ApiVersionsRequest {
    const API_KEY: ApiKey = ApiKey::ApiVersions;
    const VERSIONS: VersionRange = VersionRange::new(0, 4);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = ApiVersionsResponse;

    /// Always 0: the ApiVersions response header never carries tagged fields (KIP-511).
    fn response_header_version(_version: i16) -> i16 {
        0
    }
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// The ApiVersions response.
///
/// Fields a version cannot carry are silently left out when encoding (all of them are
/// ignorable in Kafka's schema) and take their defaults when decoding: `throttle_time_ms` 0,
/// the feature lists empty, `finalized_features_epoch` -1, `zk_migration_ready` false.
/// The tagged fields are only written when they differ from those defaults, as Java does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionsResponse {
    /// The top-level error code.
    pub error_code: i16,
    /// The APIs the broker supports, with their version ranges.
    pub api_keys: Vec<ApiVersion>,
    /// How long the request was throttled, in milliseconds (v1+).
    pub throttle_time_ms: i32,
    /// Features the broker supports (v3+, tag 0).
    pub supported_features: Vec<SupportedFeature>,
    /// Epoch of the finalized features, -1 when unknown (v3+, tag 1).
    pub finalized_features_epoch: i64,
    /// Cluster-wide finalized features, valid when the epoch is >= 0 (v3+, tag 2).
    pub finalized_features: Vec<FinalizedFeature>,
    /// Set by a KRaft controller ready for ZooKeeper migration (v3+, tag 3).
    pub zk_migration_ready: bool,
    /// Tagged fields this codec does not know (v3+). Their tags must be above 3 and strictly
    /// increasing; encoding fails otherwise.
    pub unknown_tagged_fields: Vec<RawTaggedField>,
}

impl Default for ApiVersionsResponse {
    fn default() -> Self {
        Self {
            error_code: 0,
            api_keys: Vec::new(),
            throttle_time_ms: 0,
            supported_features: Vec::new(),
            finalized_features_epoch: -1,
            finalized_features: Vec::new(),
            zk_migration_ready: false,
            unknown_tagged_fields: Vec::new(),
        }
    }
}

/// One API the broker supports and its inclusive version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ApiVersion {
    /// The API key.
    pub api_key: i16,
    /// The lowest supported version.
    pub min_version: i16,
    /// The highest supported version.
    pub max_version: i16,
}

impl ApiVersion {
    /// The advertised range as a [`VersionRange`].
    pub const fn range(&self) -> VersionRange {
        VersionRange::new(self.min_version, self.max_version)
    }
}

/// A feature the broker supports (KIP-584).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SupportedFeature {
    /// The feature's name, e.g. `transaction.version`.
    pub name: String,
    /// The lowest supported level.
    pub min_version: i16,
    /// The highest supported level.
    pub max_version: i16,
}

/// A feature level finalized for the whole cluster (KIP-584).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FinalizedFeature {
    /// The feature's name.
    pub name: String,
    /// The finalized highest level. Note the wire order: max before min.
    pub max_version_level: i16,
    /// The finalized lowest level.
    pub min_version_level: i16,
}

impl ApiVersionsResponse {
    /// Decodes a response to a request sent in `requested_version`, falling back to v0.
    ///
    /// A broker that does not support `requested_version` answers with a v0 body carrying
    /// `UNSUPPORTED_VERSION` (35). So, like the Java client: decode in `requested_version`;
    /// if that fails, or succeeds with error 35, decode again as v0. Returns the response
    /// and the version its body was read in. When both attempts fail, the error of the
    /// first is returned; when the v0 attempt fails after a successful first attempt with
    /// error 35, the first result is kept.
    pub fn decode_with_fallback(
        buf: Bytes,
        requested_version: i16,
    ) -> Result<(Self, i16), DecodeError> {
        check_decode_version::<ApiVersionsRequest>(requested_version)?;
        let first = decode_exact::<Self>(buf.clone(), requested_version);
        if requested_version == 0 {
            return first.map(|response| (response, 0));
        }
        match first {
            Ok(response) if response.error_code != UNSUPPORTED_VERSION => {
                Ok((response, requested_version))
            }
            Ok(response) => match decode_exact::<Self>(buf, 0) {
                Ok(v0) => Ok((v0, 0)),
                Err(_) => Ok((response, requested_version)),
            },
            Err(first_error) => match decode_exact::<Self>(buf, 0) {
                Ok(v0) => Ok((v0, 0)),
                Err(_) => Err(first_error),
            },
        }
    }

    /// The broker's entry for `api`, if it lists one.
    pub fn api(&self, api: ApiKey) -> Option<&ApiVersion> {
        self.api_keys
            .iter()
            .find(|entry| entry.api_key == api.code())
    }

    /// The highest version of `api` both this client (`ours`) and the broker support.
    /// `None` when the broker does not list `api` or the ranges do not overlap.
    ///
    /// Do not use this for Produce: see [`ApiVersionsResponse::produce_version`].
    pub fn version_for(&self, api: ApiKey, ours: VersionRange) -> Option<i16> {
        self.api(api).and_then(|broker| negotiate(ours, broker))
    }

    /// The Produce version to use with this broker: see [`negotiate_produce`].
    pub fn produce_version(&self, ours: VersionRange) -> Result<i16, NegotiationError> {
        let broker = self
            .api(ApiKey::Produce)
            .ok_or(NegotiationError::NotAdvertised {
                api: ApiKey::Produce,
            })?;
        negotiate_produce(ours, broker)
    }
}

// ---------------------------------------------------------------------------------------
// Negotiation
// ---------------------------------------------------------------------------------------

/// The highest version in both `ours` and the broker's advertised range, or `None` when
/// they do not overlap.
pub fn negotiate(ours: VersionRange, broker: &ApiVersion) -> Option<i16> {
    let high = ours.max.min(broker.max_version);
    let low = ours.min.max(broker.min_version);
    (high >= low).then_some(high)
}

/// Why no version of an API could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NegotiationError {
    /// The broker's ApiVersions answer does not list the API.
    #[error("the broker does not support {api}")]
    NotAdvertised {
        /// The API.
        api: ApiKey,
    },
    /// The broker's highest version is below the lowest one this client accepts.
    #[error(
        "the broker's highest {api} version is {broker_max}; this client needs at least {required}"
    )]
    BrokerTooOld {
        /// The API.
        api: ApiKey,
        /// The broker's advertised maximum.
        broker_max: i16,
        /// The lowest version this client accepts.
        required: i16,
    },
    /// The two ranges do not overlap.
    #[error(
        "no common {api} version: client {}..={}, broker {}..={}",
        .ours.min, .ours.max, .broker.min, .broker.max
    )]
    NoCommonVersion {
        /// The API.
        api: ApiKey,
        /// This client's range.
        ours: VersionRange,
        /// The broker's advertised range.
        broker: VersionRange,
    },
}

/// Chooses the Produce version: `min(ours.max, broker.max_version)`, which must be at least
/// [`MIN_PRODUCE_VERSION`] (3) and at least `ours.min`.
///
/// The broker's advertised **minimum** is not used to pick the version: Kafka 4.x brokers
/// advertise `min_version = 0` for Produce although they reject v0-v2 (KAFKA-18659). It only
/// rules out a choice that lies below it.
///
/// Fails with [`NegotiationError::BrokerTooOld`] when the broker's maximum is below 3, and
/// with [`NegotiationError::NoCommonVersion`] when the choice is outside either range.
pub fn negotiate_produce(ours: VersionRange, broker: &ApiVersion) -> Result<i16, NegotiationError> {
    if broker.max_version < MIN_PRODUCE_VERSION {
        return Err(NegotiationError::BrokerTooOld {
            api: ApiKey::Produce,
            broker_max: broker.max_version,
            required: MIN_PRODUCE_VERSION,
        });
    }
    let chosen = ours.max.min(broker.max_version);
    if chosen < MIN_PRODUCE_VERSION || chosen < ours.min || chosen < broker.min_version {
        return Err(NegotiationError::NoCommonVersion {
            api: ApiKey::Produce,
            ours,
            broker: broker.range(),
        });
    }
    Ok(chosen)
}

// ---------------------------------------------------------------------------------------
// Response codec
// ---------------------------------------------------------------------------------------

fn put_api_version<B: BufMut>(buf: &mut B, entry: &ApiVersion, flexible: bool) {
    buf.put_i16(entry.api_key);
    buf.put_i16(entry.min_version);
    buf.put_i16(entry.max_version);
    put_tags(buf, flexible);
}

fn get_api_version(buf: &mut Bytes, flexible: bool) -> Result<ApiVersion, DecodeError> {
    let entry = ApiVersion {
        api_key: get_i16(buf)?,
        min_version: get_i16(buf)?,
        max_version: get_i16(buf)?,
    };
    skip_tags(buf, flexible)?;
    Ok(entry)
}

/// Both feature structs (only in tagged fields, so always flexible) are a compact string
/// and two `INT16`s, then a tag buffer; the smallest is 6 bytes.
const MIN_FEATURE_SIZE: usize = 6;

/// Writes a feature list: each feature as its name and two levels in wire order.
fn put_features<B: BufMut, T>(
    buf: &mut B,
    features: &[T],
    fields: impl Fn(&T) -> (&str, i16, i16),
) -> Result<(), EncodeError> {
    put_array(buf, features, true, |b, feature| {
        let (name, first, second) = fields(feature);
        put_string(b, name, true)?;
        b.put_i16(first);
        b.put_i16(second);
        put_tags(b, true);
        Ok(())
    })
}

/// Reads a feature list, making each feature from its name and two levels in wire order.
fn get_features<T>(
    buf: &mut Bytes,
    make: impl Fn(String, i16, i16) -> T,
) -> Result<Vec<T>, DecodeError> {
    get_array(buf, true, MIN_FEATURE_SIZE, |b| {
        let feature = make(get_string(b, true)?, get_i16(b)?, get_i16(b)?);
        skip_tags(b, true)?;
        Ok(feature)
    })
}

impl ApiVersionsResponse {
    /// The body's tag buffer: the known fields that differ from their defaults, then the
    /// unknown ones.
    fn tagged_fields(&self, version: i16) -> Result<Vec<RawTaggedField>, EncodeError> {
        let mut last_tag = TAG_ZK_MIGRATION_READY;
        for field in &self.unknown_tagged_fields {
            if field.tag <= last_tag {
                return Err(EncodeError::FieldNotAvailable {
                    field: "unknown_tagged_fields (tags must be above 3 and increasing)",
                    version,
                });
            }
            last_tag = field.tag;
        }
        let mut fields = Vec::with_capacity(4 + self.unknown_tagged_fields.len());
        if !self.supported_features.is_empty() {
            fields.push(tagged_field(TAG_SUPPORTED_FEATURES, |b| {
                put_features(b, &self.supported_features, |f| {
                    (&f.name, f.min_version, f.max_version)
                })
            })?);
        }
        if self.finalized_features_epoch != -1 {
            fields.push(tagged_field(TAG_FINALIZED_FEATURES_EPOCH, |b| {
                b.put_i64(self.finalized_features_epoch);
                Ok(())
            })?);
        }
        if !self.finalized_features.is_empty() {
            fields.push(tagged_field(TAG_FINALIZED_FEATURES, |b| {
                put_features(b, &self.finalized_features, |f| {
                    (&f.name, f.max_version_level, f.min_version_level)
                })
            })?);
        }
        if self.zk_migration_ready {
            fields.push(tagged_field(TAG_ZK_MIGRATION_READY, |b| {
                put_bool(b, true);
                Ok(())
            })?);
        }
        fields.extend(self.unknown_tagged_fields.iter().cloned());
        Ok(fields)
    }
}

impl Encode for ApiVersionsResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<ApiVersionsRequest>(version)?;
        let flexible = ApiVersionsRequest::is_flexible(version);
        // Build the tag buffer first so that a failure leaves `buf` untouched.
        let tagged = if flexible {
            self.tagged_fields(version)?
        } else {
            Vec::new()
        };
        buf.put_i16(self.error_code);
        put_array(buf, &self.api_keys, flexible, |b, entry| {
            put_api_version(b, entry, flexible);
            Ok(())
        })?;
        if version >= 1 {
            buf.put_i32(self.throttle_time_ms);
        }
        if flexible {
            put_tagged_fields(buf, &tagged);
        }
        Ok(())
    }
}

impl Decode for ApiVersionsResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<ApiVersionsRequest>(version)?;
        let flexible = ApiVersionsRequest::is_flexible(version);
        let mut response = Self {
            error_code: get_i16(buf)?,
            api_keys: get_array(buf, flexible, 6 + tags_len(flexible), |b| {
                get_api_version(b, flexible)
            })?,
            ..Self::default()
        };
        if version >= 1 {
            response.throttle_time_ms = get_i32(buf)?;
        }
        if flexible {
            let mut supported_features = Vec::new();
            let mut finalized_features_epoch = -1;
            let mut finalized_features = Vec::new();
            let mut zk_migration_ready = false;
            let unknown = get_tagged_fields(buf, |tag, data| {
                match tag {
                    TAG_SUPPORTED_FEATURES => {
                        supported_features = read_tagged_field(data, |b| {
                            get_features(b, |name, min_version, max_version| SupportedFeature {
                                name,
                                min_version,
                                max_version,
                            })
                        })?;
                    }
                    TAG_FINALIZED_FEATURES_EPOCH => {
                        finalized_features_epoch = read_tagged_field(data, get_i64)?;
                    }
                    TAG_FINALIZED_FEATURES => {
                        finalized_features = read_tagged_field(data, |b| {
                            get_features(b, |name, max_version_level, min_version_level| {
                                FinalizedFeature {
                                    name,
                                    max_version_level,
                                    min_version_level,
                                }
                            })
                        })?;
                    }
                    TAG_ZK_MIGRATION_READY => {
                        zk_migration_ready = read_tagged_field(data, get_bool)?;
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
            response.supported_features = supported_features;
            response.finalized_features_epoch = finalized_features_epoch;
            response.finalized_features = finalized_features;
            response.zk_migration_ready = zk_migration_ready;
            response.unknown_tagged_fields = unknown;
        }
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{
        assert_encodes_to, encode, encode_err, message_tests, name, versioned, versions,
    };
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;

    // -- hand-written vectors ------------------------------------------------------------

    #[test]
    fn v3_request_bytes() {
        let request = ApiVersionsRequest::new("kiel", "0.1.0");
        let bytes: &[u8] = &[
            0x05, b'k', b'i', b'e',
            b'l', // client_software_name: COMPACT_STRING, length 4 + 1
            0x06, b'0', b'.', b'1', b'.', b'0', // client_software_version: length 5 + 1
            0x00, // TAG_BUFFER: no tagged fields
        ];
        assert_encodes_to(&request, 3, bytes);
    }

    #[test]
    fn request_below_v3_is_empty_whatever_it_holds() {
        let request = ApiVersionsRequest::new("kiel", "0.1.0");
        for version in 0..3 {
            assert!(encode(&request, version).is_empty(), "v{version}");
            let decoded: ApiVersionsRequest = decode_exact(Bytes::new(), version).unwrap();
            assert_eq!(decoded, ApiVersionsRequest::default());
        }
    }

    #[test]
    fn v3_response_bytes_with_tagged_features() {
        let response = ApiVersionsResponse {
            api_keys: vec![
                ApiVersion {
                    api_key: 0,
                    min_version: 0,
                    max_version: 13,
                },
                ApiVersion {
                    api_key: 18,
                    min_version: 0,
                    max_version: 4,
                },
            ],
            supported_features: vec![SupportedFeature {
                name: "transaction.version".into(),
                min_version: 0,
                max_version: 2,
            }],
            finalized_features_epoch: 5,
            ..ApiVersionsResponse::default()
        };
        let mut bytes: Vec<u8> = vec![
            0x00, 0x00, // error_code: 0
            0x03, // api_keys: COMPACT_ARRAY of 2 (N + 1)
            0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x00, // Produce (0) 0..=13, TAG_BUFFER
            0x00, 0x12, 0x00, 0x00, 0x00, 0x04, 0x00, // ApiVersions (18) 0..=4, TAG_BUFFER
            0x00, 0x00, 0x00, 0x00, // throttle_time_ms: 0
            0x02, // TAG_BUFFER: 2 fields
            0x00, 0x1a, // tag 0 (supported_features), 26 bytes:
            0x02, // COMPACT_ARRAY of 1
            0x14, // name: COMPACT_STRING of 19
        ];
        bytes.extend_from_slice(b"transaction.version");
        bytes.extend_from_slice(&[
            0x00, 0x00, // min_version: 0
            0x00, 0x02, // max_version: 2
            0x00, // TAG_BUFFER of the feature
            0x01, 0x08, // tag 1 (finalized_features_epoch), 8 bytes:
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // INT64 5
        ]);
        assert_encodes_to(&response, 3, &bytes);
    }

    /// A v0 body as a broker sends it when it does not know the requested version.
    fn v0_unsupported_version_body() -> Bytes {
        Bytes::from_static(&[
            0x00, 0x23, // error_code: 35 UNSUPPORTED_VERSION
            0x00, 0x00, 0x00, 0x01, // api_keys: ARRAY of 1
            0x00, 0x12, 0x00, 0x00, 0x00, 0x03, // ApiVersions (18) 0..=3
        ])
    }

    #[test]
    fn fallback_reads_a_v0_answer_to_a_v4_request() {
        let body = v0_unsupported_version_body();
        assert!(decode_exact::<ApiVersionsResponse>(body.clone(), 4).is_err());
        let (response, used) = ApiVersionsResponse::decode_with_fallback(body, 4).unwrap();
        assert_eq!(used, 0);
        assert_eq!(response.error_code, UNSUPPORTED_VERSION);
        assert_eq!(
            response.api(ApiKey::ApiVersions),
            Some(&ApiVersion {
                api_key: 18,
                min_version: 0,
                max_version: 3
            })
        );
        // What the caller retries with: the broker's highest ApiVersions version.
        assert_eq!(
            response.version_for(ApiKey::ApiVersions, ApiVersionsRequest::VERSIONS),
            Some(3)
        );
    }

    #[test]
    fn fallback_keeps_the_requested_version_when_it_parses() {
        let response = ApiVersionsResponse {
            api_keys: vec![ApiVersion {
                api_key: 3,
                min_version: 0,
                max_version: 13,
            }],
            throttle_time_ms: 7,
            ..ApiVersionsResponse::default()
        };
        let body = Bytes::from(encode(&response, 4));
        assert_eq!(
            ApiVersionsResponse::decode_with_fallback(body, 4).unwrap(),
            (response.clone(), 4)
        );
        // Error 35 in a body that is only valid in the requested version: v0 fails, so the
        // first result stays.
        let unsupported = ApiVersionsResponse {
            error_code: UNSUPPORTED_VERSION,
            ..response
        };
        let body = Bytes::from(encode(&unsupported, 2));
        assert_eq!(
            ApiVersionsResponse::decode_with_fallback(body, 2).unwrap(),
            (unsupported, 2)
        );
        // The v0 body read at v2 fails (no throttle time) and falls back.
        let (_, used) =
            ApiVersionsResponse::decode_with_fallback(v0_unsupported_version_body(), 2).unwrap();
        assert_eq!(used, 0);
    }

    #[test]
    fn fallback_reports_the_first_error_when_both_fail() {
        let body = Bytes::from_static(&[0x00, 0x00, 0x05]);
        let direct = decode_exact::<ApiVersionsResponse>(body.clone(), 4).unwrap_err();
        assert_eq!(
            ApiVersionsResponse::decode_with_fallback(body, 4),
            Err(direct)
        );
        assert!(matches!(
            ApiVersionsResponse::decode_with_fallback(Bytes::new(), 5),
            Err(DecodeError::UnsupportedVersion {
                api_key: 18,
                version: 5
            })
        ));
    }

    #[test]
    fn response_header_is_always_v0() {
        for version in ApiVersionsRequest::VERSIONS.iter() {
            assert_eq!(ApiVersionsRequest::response_header_version(version), 0);
        }
        assert_eq!(ApiVersionsRequest::request_header_version(2), 1);
        assert_eq!(ApiVersionsRequest::request_header_version(3), 2);
    }

    #[test]
    fn known_tagged_field_with_extra_bytes_is_rejected() {
        let bytes = Bytes::from_static(&[
            0x00, 0x00, // error_code
            0x01, // api_keys: empty
            0x00, 0x00, 0x00, 0x00, // throttle_time_ms
            0x01, 0x03, 0x02, 0x01, 0x00, // tag 3 (zk_migration_ready) with 2 bytes
        ]);
        assert_eq!(
            decode_exact::<ApiVersionsResponse>(bytes, 3),
            Err(DecodeError::TrailingBytes(1))
        );
    }

    #[test]
    fn unknown_tagged_fields_must_not_reuse_known_tags() {
        let response = ApiVersionsResponse {
            unknown_tagged_fields: vec![RawTaggedField {
                tag: 2,
                data: Bytes::new(),
            }],
            ..ApiVersionsResponse::default()
        };
        assert!(matches!(
            encode_err(&response, 3),
            EncodeError::FieldNotAvailable { .. }
        ));
        // Below v3 there are no tagged fields, so nothing is checked or written.
        assert!(!encode(&response, 2).is_empty());
    }

    // -- software name validation ----------------------------------------------------------

    #[test]
    fn client_software_field_validation() {
        for good in [
            "kiel",
            "0.1.0",
            "apache-kafka-java",
            "a",
            "7",
            "1.2.3-SNAPSHOT",
            "a.-b",
        ] {
            assert!(is_valid_client_software_field(good), "{good:?}");
        }
        for bad in [
            "",
            "-a",
            "a-",
            ".a",
            "a.",
            "a_b",
            "a b",
            "0.1.0+build",
            "k\u{e9}l",
            "a\n",
        ] {
            assert!(!is_valid_client_software_field(bad), "{bad:?}");
        }
        assert!(ApiVersionsRequest::new("kiel", "0.1.0").has_valid_software_fields());
        assert!(!ApiVersionsRequest::new("kiel", "0.1.0+x").has_valid_software_fields());
        assert!(!ApiVersionsRequest::default().has_valid_software_fields());
    }

    // -- negotiation -----------------------------------------------------------------------

    fn entry(api_key: i16, min_version: i16, max_version: i16) -> ApiVersion {
        ApiVersion {
            api_key,
            min_version,
            max_version,
        }
    }

    #[test]
    fn negotiate_picks_the_highest_common_version() {
        let ours = VersionRange::new(0, 13);
        assert_eq!(negotiate(ours, &entry(3, 0, 12)), Some(12));
        assert_eq!(
            negotiate(VersionRange::new(0, 9), &entry(3, 0, 12)),
            Some(9)
        );
        assert_eq!(negotiate(VersionRange::new(0, 4), &entry(3, 5, 12)), None);
        assert_eq!(negotiate(VersionRange::new(6, 8), &entry(3, 0, 5)), None);
        assert_eq!(negotiate(VersionRange::new(5, 8), &entry(3, 0, 5)), Some(5));

        let response = ApiVersionsResponse {
            api_keys: vec![entry(3, 0, 12), entry(22, 0, 5)],
            ..ApiVersionsResponse::default()
        };
        assert_eq!(response.version_for(ApiKey::Metadata, ours), Some(12));
        assert_eq!(response.version_for(ApiKey::InitProducerId, ours), Some(5));
        assert_eq!(response.version_for(ApiKey::ApiVersions, ours), None);
    }

    #[test]
    fn produce_ignores_the_advertised_minimum_and_refuses_below_v3() {
        let ours = VersionRange::new(3, 13);
        // Kafka 4.x: advertised 0..=12 although v0-v2 are gone.
        assert_eq!(negotiate_produce(ours, &entry(0, 0, 12)), Ok(12));
        assert_eq!(
            negotiate_produce(VersionRange::new(3, 11), &entry(0, 0, 13)),
            Ok(11)
        );
        // Even a client range that starts at 0 never gets a version below 3.
        assert_eq!(
            negotiate_produce(VersionRange::new(0, 13), &entry(0, 0, 2)),
            Err(NegotiationError::BrokerTooOld {
                api: ApiKey::Produce,
                broker_max: 2,
                required: MIN_PRODUCE_VERSION,
            })
        );
        assert_eq!(
            negotiate_produce(VersionRange::new(0, 2), &entry(0, 0, 13)),
            Err(NegotiationError::NoCommonVersion {
                api: ApiKey::Produce,
                ours: VersionRange::new(0, 2),
                broker: VersionRange::new(0, 13),
            })
        );
        assert!(matches!(
            negotiate_produce(VersionRange::new(3, 4), &entry(0, 5, 13)),
            Err(NegotiationError::NoCommonVersion { .. })
        ));
        let response = ApiVersionsResponse {
            api_keys: vec![entry(0, 0, 12)],
            ..ApiVersionsResponse::default()
        };
        assert_eq!(response.produce_version(ours), Ok(12));
        assert_eq!(
            ApiVersionsResponse::default().produce_version(ours),
            Err(NegotiationError::NotAdvertised {
                api: ApiKey::Produce
            })
        );
    }

    // -- property tests --------------------------------------------------------------------

    fn request_for(version: i16) -> BoxedStrategy<ApiVersionsRequest> {
        if version < FIRST_FLEXIBLE {
            Just(ApiVersionsRequest::default()).boxed()
        } else {
            (name(), name())
                .prop_map(|(name, version)| ApiVersionsRequest::new(name, version))
                .boxed()
        }
    }

    fn api_version() -> impl Strategy<Value = ApiVersion> {
        (any::<i16>(), any::<i16>(), any::<i16>()).prop_map(|(api_key, min, max)| ApiVersion {
            api_key,
            min_version: min,
            max_version: max,
        })
    }

    fn response_for(version: i16) -> BoxedStrategy<ApiVersionsResponse> {
        let base = (any::<i16>(), vec(api_version(), 0..4), any::<i32>()).prop_map(
            move |(error_code, api_keys, throttle)| ApiVersionsResponse {
                error_code,
                api_keys,
                throttle_time_ms: if version >= 1 { throttle } else { 0 },
                ..ApiVersionsResponse::default()
            },
        );
        if version < FIRST_FLEXIBLE {
            return base.boxed();
        }
        let supported = vec(
            (name(), any::<i16>(), any::<i16>()).prop_map(|(name, min, max)| SupportedFeature {
                name,
                min_version: min,
                max_version: max,
            }),
            0..3,
        );
        let finalized = vec(
            (name(), any::<i16>(), any::<i16>()).prop_map(|(name, max, min)| FinalizedFeature {
                name,
                max_version_level: max,
                min_version_level: min,
            }),
            0..3,
        );
        let unknown = btree_map(4u32..300, vec(any::<u8>(), 0..4), 0..3).prop_map(|fields| {
            fields
                .into_iter()
                .map(|(tag, data)| RawTaggedField {
                    tag,
                    data: Bytes::from(data),
                })
                .collect::<Vec<_>>()
        });
        (
            base,
            supported,
            any::<i64>(),
            finalized,
            any::<bool>(),
            unknown,
        )
            .prop_map(
                |(base, supported, epoch, finalized, zk, unknown)| ApiVersionsResponse {
                    supported_features: supported,
                    finalized_features_epoch: epoch,
                    finalized_features: finalized,
                    zk_migration_ready: zk,
                    unknown_tagged_fields: unknown,
                    ..base
                },
            )
            .boxed()
    }

    message_tests! {
        request: ApiVersionsRequest = request_for,
        response: ApiVersionsResponse = response_for,
    }

    proptest! {
        #[test]
        fn fallback_agrees_with_a_plain_decode(
            (version, response) in versioned(ApiVersionsRequest::VERSIONS, response_for),
        ) {
            prop_assume!(response.error_code != UNSUPPORTED_VERSION);
            let body = Bytes::from(encode(&response, version));
            prop_assert_eq!(
                ApiVersionsResponse::decode_with_fallback(body, version).unwrap(),
                (response, version)
            );
        }

        #[test]
        fn fallback_on_random_bytes_never_panics(
            data in vec(any::<u8>(), 0..64),
            version in versions(ApiVersionsRequest::VERSIONS),
        ) {
            let _ = ApiVersionsResponse::decode_with_fallback(Bytes::from(data), version);
        }
    }
}
