//! Metadata (API key 3), versions 0 to 13: brokers, topics, partitions and their leaders.
//!
//! Wire layout (flexible from v9, where every struct, nested ones included, ends with a
//! TAG_BUFFER):
//!
//! ```text
//! request   topics [topic_id UUID (v10+), name STRING (nullable v10+)]  (nullable v1+)
//!           allow_auto_topic_creation BOOL (v4+)
//!           include_cluster_authorized_operations BOOL (v8-v10)
//!           include_topic_authorized_operations BOOL (v8+)
//! response  throttle_time_ms INT32 (v3+)
//!           brokers [node_id INT32, host STRING, port INT32, rack NULLABLE_STRING (v1+)]
//!           cluster_id NULLABLE_STRING (v2+)
//!           controller_id INT32 (v1+)
//!           topics [error_code INT16, name STRING (nullable v12+), topic_id UUID (v10+),
//!                   is_internal BOOL (v1+),
//!                   partitions [error_code INT16, partition_index INT32, leader_id INT32,
//!                               leader_epoch INT32 (v7+), replica_nodes [INT32],
//!                               isr_nodes [INT32], offline_replicas [INT32] (v5+)],
//!                   topic_authorized_operations INT32 (v8+)]
//!           cluster_authorized_operations INT32 (v8-v10)
//!           error_code INT16 (v13+, top level; e.g. REBOOTSTRAP_REQUIRED 129)
//! ```
//!
//! "All topics" is spelled differently by version: v0 sends an empty array (v0 cannot ask
//! for no topics at all), v1+ sends a null array, and a v1+ empty array means no topics.
//! [`MetadataRequest::topics`] is `None` for all topics in every version; the codec maps it.
//!
//! Fields a version cannot carry follow Kafka's generated code: fields the schema marks
//! ignorable are silently left out when encoding and take their defaults when decoding
//! (-1 for `controller_id` and `leader_epoch`, null for `rack` and `cluster_id`, the zero UUID
//! for `topic_id`, 0 for `throttle_time_ms` and the top-level `error_code`, false for
//! `is_internal`, an empty `offline_replicas`). Fields that are not ignorable fail with
//! [`EncodeError::FieldNotAvailable`] when they hold anything but their default
//! (`allow_auto_topic_creation` true, the two `include_*` flags false, authorized
//! operations `i32::MIN`, non-null names). So encoding a value in an older version and
//! decoding it gives the value with the missing fields reset to those defaults.
//!
//! Unknown tagged fields are read and dropped.
//!
//! # References
//! - `MetadataRequest.json`, `MetadataResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/` (v0-v12); v13 (top-level `error_code`,
//!   Kafka 4.0+) as in the Kafka 4.1 schemas, checked against tychedelia/kafka-protocol-rs
//!   `metadata_{request,response}.rs`
//! - KIP-482 (flexible versions), KIP-516 (topic ids), KIP-700 (cluster authorized
//!   operations moved to DescribeCluster), KIP-1102 (REBOOTSTRAP_REQUIRED)

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{
    check_field, min_array_len, min_string_len, put_tags, skip_tags, tags_len,
};
use crate::primitives::{
    get_array, get_bool, get_i16, get_i32, get_i32_array, get_nullable_array, get_nullable_string,
    get_string, get_uuid, put_array, put_array_len, put_bool, put_i32_array, put_nullable_string,
    put_string, put_uuid, Uuid, ZERO_UUID,
};

/// The first flexible version of Metadata.
const FIRST_FLEXIBLE: i16 = 9;

/// The default of both authorized-operations fields: "not requested".
pub const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// Whether `version` carries `include_cluster_authorized_operations` and
/// `cluster_authorized_operations` (v8 to v10; KIP-700 moved them to DescribeCluster).
fn has_cluster_authorized_operations(version: i16) -> bool {
    (8..=10).contains(&version)
}

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

/// The Metadata request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequest {
    /// The topics to describe; `None` means all topics (sent as an empty array in v0 and
    /// as null in v1+). `Some(vec![])` means no topics and cannot be sent in v0.
    pub topics: Option<Vec<MetadataRequestTopic>>,
    /// Whether the broker may create requested topics that do not exist, if it is
    /// configured to (v4+). Must be true (the schema default) below v4.
    pub allow_auto_topic_creation: bool,
    /// Whether to return the cluster's authorized operations (v8-v10 only).
    pub include_cluster_authorized_operations: bool,
    /// Whether to return each topic's authorized operations (v8+).
    pub include_topic_authorized_operations: bool,
}

impl Default for MetadataRequest {
    /// All topics, auto-creation allowed, no authorized operations.
    fn default() -> Self {
        Self::all_topics()
    }
}

impl MetadataRequest {
    /// A request for every topic (and the brokers).
    pub const fn all_topics() -> Self {
        Self {
            topics: None,
            allow_auto_topic_creation: true,
            include_cluster_authorized_operations: false,
            include_topic_authorized_operations: false,
        }
    }

    /// A request for the named topics, with auto-creation allowed (what the Java producer
    /// sends). An empty iterator asks for brokers only (v1+).
    pub fn for_topics<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            topics: Some(names.into_iter().map(MetadataRequestTopic::named).collect()),
            ..Self::all_topics()
        }
    }
}

/// One topic of a [`MetadataRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataRequestTopic {
    /// The topic id (v10+; written before the name). The zero UUID when asking by name,
    /// which is what versions 10 and 11 must do. Silently left out below v10.
    pub topic_id: Uuid,
    /// The topic name; null only when asking by id (v10+, effective in v12+).
    pub name: Option<String>,
}

impl MetadataRequestTopic {
    /// A topic asked for by name.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            topic_id: ZERO_UUID,
            name: Some(name.into()),
        }
    }

    fn min_size(version: i16) -> usize {
        let flexible = MetadataRequest::is_flexible(version);
        let id = if version >= 10 { 16 } else { 0 };
        id + min_string_len(flexible) + tags_len(flexible)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        if version >= 10 {
            put_uuid(buf, &self.topic_id);
        }
        put_nullable_string(buf, self.name.as_deref(), flexible)?;
        put_tags(buf, flexible);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        let (topic_id, name) = if version >= 10 {
            (get_uuid(buf)?, get_nullable_string(buf, flexible)?)
        } else {
            (ZERO_UUID, Some(get_string(buf, flexible)?))
        };
        skip_tags(buf, flexible)?;
        Ok(Self { topic_id, name })
    }
}

impl MetadataRequest {
    /// Checks that every field can be carried by `version`, before anything is written.
    fn check_fields(&self, version: i16) -> Result<(), EncodeError> {
        check_field(
            "allow_auto_topic_creation = false",
            version,
            version >= 4,
            self.allow_auto_topic_creation,
        )?;
        check_field(
            "include_cluster_authorized_operations",
            version,
            has_cluster_authorized_operations(version),
            !self.include_cluster_authorized_operations,
        )?;
        check_field(
            "include_topic_authorized_operations",
            version,
            version >= 8,
            !self.include_topic_authorized_operations,
        )?;
        let topics = self.topics.as_deref();
        check_field(
            "topics = [] (no topics; v0 reads an empty list as all topics)",
            version,
            version > 0,
            !topics.is_some_and(<[_]>::is_empty),
        )?;
        check_field(
            "topics[].name = null",
            version,
            version >= 10,
            !topics.is_some_and(|topics| topics.iter().any(|t| t.name.is_none())),
        )
    }
}

impl Encode for MetadataRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        self.check_fields(version)?;
        let flexible = Self::is_flexible(version);
        match &self.topics {
            // v0 spells "all topics" as an empty array.
            None if version == 0 => put_array_len(buf, Some(0), flexible)?,
            None => put_array_len(buf, None, flexible)?,
            Some(topics) => {
                put_array(buf, topics, flexible, |b, topic| topic.write(b, version))?;
            }
        }
        if version >= 4 {
            put_bool(buf, self.allow_auto_topic_creation);
        }
        if has_cluster_authorized_operations(version) {
            put_bool(buf, self.include_cluster_authorized_operations);
        }
        if version >= 8 {
            put_bool(buf, self.include_topic_authorized_operations);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for MetadataRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let topics = get_nullable_array(
            buf,
            flexible,
            MetadataRequestTopic::min_size(version),
            |b| MetadataRequestTopic::read(b, version),
        )?;
        let topics = match topics {
            None if version == 0 => return Err(DecodeError::UnexpectedNull("topics")),
            Some(topics) if version == 0 && topics.is_empty() => None,
            other => other,
        };
        let allow_auto_topic_creation = if version >= 4 { get_bool(buf)? } else { true };
        let include_cluster_authorized_operations = if has_cluster_authorized_operations(version) {
            get_bool(buf)?
        } else {
            false
        };
        let include_topic_authorized_operations = if version >= 8 { get_bool(buf)? } else { false };
        skip_tags(buf, flexible)?;
        Ok(Self {
            topics,
            allow_auto_topic_creation,
            include_cluster_authorized_operations,
            include_topic_authorized_operations,
        })
    }
}

impl Request for MetadataRequest {
    const API_KEY: ApiKey = ApiKey::Metadata;
    const VERSIONS: VersionRange = VersionRange::new(0, 13);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = MetadataResponse;
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// The Metadata response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataResponse {
    /// How long the request was throttled, in milliseconds (v3+; 0 below).
    pub throttle_time_ms: i32,
    /// The brokers of the cluster.
    pub brokers: Vec<MetadataBroker>,
    /// The cluster id (v2+; null below).
    pub cluster_id: Option<String>,
    /// The id of the controller broker (v1+; -1 below).
    pub controller_id: i32,
    /// The topics asked for (or all of them).
    pub topics: Vec<MetadataTopic>,
    /// The cluster's authorized operations as a bit field (v8-v10;
    /// [`AUTHORIZED_OPERATIONS_OMITTED`] otherwise).
    pub cluster_authorized_operations: i32,
    /// The top-level error code (v13+; 0 below), e.g. REBOOTSTRAP_REQUIRED (129).
    pub error_code: i16,
}

impl Default for MetadataResponse {
    fn default() -> Self {
        Self {
            throttle_time_ms: 0,
            brokers: Vec::new(),
            cluster_id: None,
            controller_id: -1,
            topics: Vec::new(),
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            error_code: 0,
        }
    }
}

/// A broker in a [`MetadataResponse`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MetadataBroker {
    /// The broker id.
    pub node_id: i32,
    /// The host name clients connect to.
    pub host: String,
    /// The port clients connect to.
    pub port: i32,
    /// The broker's rack (v1+; null below or when unassigned).
    pub rack: Option<String>,
}

/// A topic in a [`MetadataResponse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataTopic {
    /// The topic's error code, 0 if none.
    pub error_code: i16,
    /// The topic name; null (v12+ only) for an unknown topic asked for by id.
    pub name: Option<String>,
    /// The topic id (v10+); the zero UUID when unknown or below v10.
    pub topic_id: Uuid,
    /// Whether the topic is internal (v1+; false below).
    pub is_internal: bool,
    /// The topic's partitions.
    pub partitions: Vec<MetadataPartition>,
    /// The topic's authorized operations as a bit field (v8+;
    /// [`AUTHORIZED_OPERATIONS_OMITTED`] otherwise).
    pub topic_authorized_operations: i32,
}

impl Default for MetadataTopic {
    fn default() -> Self {
        Self {
            error_code: 0,
            name: None,
            topic_id: ZERO_UUID,
            is_internal: false,
            partitions: Vec::new(),
            topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
        }
    }
}

/// A partition in a [`MetadataTopic`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MetadataPartition {
    /// The partition's error code, 0 if none.
    pub error_code: i16,
    /// The partition number.
    pub partition_index: i32,
    /// The id of the leader broker (-1 when there is none).
    pub leader_id: i32,
    /// The leader epoch (v7+; -1 below).
    pub leader_epoch: i32,
    /// All replicas of the partition.
    pub replica_nodes: Vec<i32>,
    /// The in-sync replicas.
    pub isr_nodes: Vec<i32>,
    /// The offline replicas (v5+; empty below).
    pub offline_replicas: Vec<i32>,
}

impl Default for MetadataPartition {
    fn default() -> Self {
        Self {
            error_code: 0,
            partition_index: 0,
            leader_id: 0,
            leader_epoch: -1,
            replica_nodes: Vec::new(),
            isr_nodes: Vec::new(),
            offline_replicas: Vec::new(),
        }
    }
}

impl MetadataBroker {
    fn min_size(version: i16) -> usize {
        let flexible = MetadataRequest::is_flexible(version);
        let rack = if version >= 1 {
            min_string_len(flexible)
        } else {
            0
        };
        4 + min_string_len(flexible) + 4 + rack + tags_len(flexible)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        buf.put_i32(self.node_id);
        put_string(buf, &self.host, flexible)?;
        buf.put_i32(self.port);
        if version >= 1 {
            put_nullable_string(buf, self.rack.as_deref(), flexible)?;
        }
        put_tags(buf, flexible);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        let broker = Self {
            node_id: get_i32(buf)?,
            host: get_string(buf, flexible)?,
            port: get_i32(buf)?,
            rack: if version >= 1 {
                get_nullable_string(buf, flexible)?
            } else {
                None
            },
        };
        skip_tags(buf, flexible)?;
        Ok(broker)
    }
}

impl MetadataTopic {
    fn min_size(version: i16) -> usize {
        let flexible = MetadataRequest::is_flexible(version);
        let topic_id = if version >= 10 { 16 } else { 0 };
        let is_internal = usize::from(version >= 1);
        let authorized = if version >= 8 { 4 } else { 0 };
        2 + min_string_len(flexible)
            + topic_id
            + is_internal
            + min_array_len(flexible)
            + authorized
            + tags_len(flexible)
    }

    fn check_fields(&self, version: i16) -> Result<(), EncodeError> {
        check_field(
            "topics[].name = null",
            version,
            version >= 12,
            self.name.is_some(),
        )?;
        check_field(
            "topics[].topic_authorized_operations",
            version,
            version >= 8,
            self.topic_authorized_operations == AUTHORIZED_OPERATIONS_OMITTED,
        )
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        buf.put_i16(self.error_code);
        put_nullable_string(buf, self.name.as_deref(), flexible)?;
        if version >= 10 {
            put_uuid(buf, &self.topic_id);
        }
        if version >= 1 {
            put_bool(buf, self.is_internal);
        }
        put_array(buf, &self.partitions, flexible, |b, partition| {
            partition.write(b, version)
        })?;
        if version >= 8 {
            buf.put_i32(self.topic_authorized_operations);
        }
        put_tags(buf, flexible);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        let error_code = get_i16(buf)?;
        let name = if version >= 12 {
            get_nullable_string(buf, flexible)?
        } else {
            Some(get_string(buf, flexible)?)
        };
        let topic_id = if version >= 10 {
            get_uuid(buf)?
        } else {
            ZERO_UUID
        };
        let is_internal = version >= 1 && get_bool(buf)?;
        let partitions = get_array(buf, flexible, MetadataPartition::min_size(version), |b| {
            MetadataPartition::read(b, version)
        })?;
        let topic_authorized_operations = if version >= 8 {
            get_i32(buf)?
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        };
        skip_tags(buf, flexible)?;
        Ok(Self {
            error_code,
            name,
            topic_id,
            is_internal,
            partitions,
            topic_authorized_operations,
        })
    }
}

impl MetadataPartition {
    fn min_size(version: i16) -> usize {
        let flexible = MetadataRequest::is_flexible(version);
        let leader_epoch = if version >= 7 { 4 } else { 0 };
        let offline = if version >= 5 {
            min_array_len(flexible)
        } else {
            0
        };
        2 + 4 + 4 + leader_epoch + 2 * min_array_len(flexible) + offline + tags_len(flexible)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        buf.put_i16(self.error_code);
        buf.put_i32(self.partition_index);
        buf.put_i32(self.leader_id);
        if version >= 7 {
            buf.put_i32(self.leader_epoch);
        }
        put_i32_array(buf, &self.replica_nodes, flexible)?;
        put_i32_array(buf, &self.isr_nodes, flexible)?;
        if version >= 5 {
            put_i32_array(buf, &self.offline_replicas, flexible)?;
        }
        put_tags(buf, flexible);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = MetadataRequest::is_flexible(version);
        let partition = Self {
            error_code: get_i16(buf)?,
            partition_index: get_i32(buf)?,
            leader_id: get_i32(buf)?,
            leader_epoch: if version >= 7 { get_i32(buf)? } else { -1 },
            replica_nodes: get_i32_array(buf, flexible)?,
            isr_nodes: get_i32_array(buf, flexible)?,
            offline_replicas: if version >= 5 {
                get_i32_array(buf, flexible)?
            } else {
                Vec::new()
            },
        };
        skip_tags(buf, flexible)?;
        Ok(partition)
    }
}

impl MetadataResponse {
    /// Checks that every non-ignorable field can be carried by `version`.
    fn check_fields(&self, version: i16) -> Result<(), EncodeError> {
        check_field(
            "cluster_authorized_operations",
            version,
            has_cluster_authorized_operations(version),
            self.cluster_authorized_operations == AUTHORIZED_OPERATIONS_OMITTED,
        )?;
        self.topics
            .iter()
            .try_for_each(|topic| topic.check_fields(version))
    }
}

impl Encode for MetadataResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<MetadataRequest>(version)?;
        self.check_fields(version)?;
        let flexible = MetadataRequest::is_flexible(version);
        if version >= 3 {
            buf.put_i32(self.throttle_time_ms);
        }
        put_array(buf, &self.brokers, flexible, |b, broker| {
            broker.write(b, version)
        })?;
        if version >= 2 {
            put_nullable_string(buf, self.cluster_id.as_deref(), flexible)?;
        }
        if version >= 1 {
            buf.put_i32(self.controller_id);
        }
        put_array(buf, &self.topics, flexible, |b, topic| {
            topic.write(b, version)
        })?;
        if has_cluster_authorized_operations(version) {
            buf.put_i32(self.cluster_authorized_operations);
        }
        if version >= 13 {
            buf.put_i16(self.error_code);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for MetadataResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<MetadataRequest>(version)?;
        let flexible = MetadataRequest::is_flexible(version);
        let throttle_time_ms = if version >= 3 { get_i32(buf)? } else { 0 };
        let brokers = get_array(buf, flexible, MetadataBroker::min_size(version), |b| {
            MetadataBroker::read(b, version)
        })?;
        let cluster_id = if version >= 2 {
            get_nullable_string(buf, flexible)?
        } else {
            None
        };
        let controller_id = if version >= 1 { get_i32(buf)? } else { -1 };
        let topics = get_array(buf, flexible, MetadataTopic::min_size(version), |b| {
            MetadataTopic::read(b, version)
        })?;
        let cluster_authorized_operations = if has_cluster_authorized_operations(version) {
            get_i32(buf)?
        } else {
            AUTHORIZED_OPERATIONS_OMITTED
        };
        let error_code = if version >= 13 { get_i16(buf)? } else { 0 };
        skip_tags(buf, flexible)?;
        Ok(Self {
            throttle_time_ms,
            brokers,
            cluster_id,
            controller_id,
            topics,
            cluster_authorized_operations,
            error_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::decode_exact;
    use crate::messages::test_util::{
        assert_encodes_to, assert_not_ignorable, encode_err, message_tests, name, over_the_wire,
        since,
    };
    use proptest::collection::vec;
    use proptest::option;
    use proptest::prelude::*;

    // -- hand-written vectors ------------------------------------------------------------

    #[test]
    fn v12_request_with_one_topic_bytes() {
        let request = MetadataRequest::for_topics(["orders"]);
        let mut bytes = vec![
            0x02, // topics: COMPACT_ARRAY of 1 (N + 1)
        ];
        bytes.extend_from_slice(&[0x00; 16]); // topic_id: zero UUID, before the name (v10+)
        bytes.push(0x07); // name: COMPACT_NULLABLE_STRING of 6
        bytes.extend_from_slice(b"orders");
        bytes.extend_from_slice(&[
            0x00, // TAG_BUFFER of the topic
            0x01, // allow_auto_topic_creation: true
            0x00, // include_topic_authorized_operations: false (no cluster flag after v10)
            0x00, // TAG_BUFFER
        ]);
        assert_encodes_to(&request, 12, &bytes);
    }

    #[test]
    fn v9_request_sends_no_topic_id_and_has_the_cluster_flag() {
        let request = MetadataRequest {
            include_cluster_authorized_operations: true,
            ..MetadataRequest::for_topics(["t"])
        };
        let bytes: &[u8] = &[
            0x02, // topics: COMPACT_ARRAY of 1
            0x02, b't', // name: COMPACT_STRING of 1
            0x00, // TAG_BUFFER of the topic
            0x01, // allow_auto_topic_creation: true
            0x01, // include_cluster_authorized_operations: true (v8-v10)
            0x00, // include_topic_authorized_operations: false
            0x00, // TAG_BUFFER
        ];
        assert_encodes_to(&request, 9, bytes);
    }

    #[test]
    fn all_topics_is_an_empty_array_in_v0_and_null_after() {
        let all = MetadataRequest::all_topics();
        // v0: ARRAY of 0 means all topics.
        assert_encodes_to(&all, 0, &[0x00, 0x00, 0x00, 0x00]);
        // v1: ARRAY null (-1) means all topics.
        assert_encodes_to(&all, 1, &[0xff, 0xff, 0xff, 0xff]);
        // v1: ARRAY of 0 means no topics.
        let none = MetadataRequest::for_topics(Vec::<String>::new());
        assert_encodes_to(&none, 1, &[0x00, 0x00, 0x00, 0x00]);
        // v9: COMPACT_ARRAY null (0), auto-create, two flags, TAG_BUFFER.
        assert_encodes_to(&all, 9, &[0x00, 0x01, 0x00, 0x00, 0x00]);
        // v0 cannot ask for no topics, and null is not a v0 value.
        assert!(matches!(
            encode_err(&none, 0),
            EncodeError::FieldNotAvailable { version: 0, .. }
        ));
        assert_eq!(
            decode_exact::<MetadataRequest>(Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]), 0),
            Err(DecodeError::UnexpectedNull("topics"))
        );
    }

    #[test]
    fn v13_response_bytes() {
        let response = MetadataResponse {
            throttle_time_ms: 0,
            brokers: vec![MetadataBroker {
                node_id: 1,
                host: "localhost".into(),
                port: 9092,
                rack: None,
            }],
            cluster_id: Some("abcd".into()),
            controller_id: 1,
            topics: vec![MetadataTopic {
                error_code: 0,
                name: Some("orders".into()),
                topic_id: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
                is_internal: false,
                partitions: vec![MetadataPartition {
                    error_code: 0,
                    partition_index: 0,
                    leader_id: 1,
                    leader_epoch: 5,
                    replica_nodes: vec![1],
                    isr_nodes: vec![1],
                    offline_replicas: vec![],
                }],
                topic_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            }],
            cluster_authorized_operations: AUTHORIZED_OPERATIONS_OMITTED,
            error_code: 0,
        };
        let mut bytes = vec![
            0x00, 0x00, 0x00, 0x00, // throttle_time_ms: 0
            0x02, // brokers: COMPACT_ARRAY of 1
            0x00, 0x00, 0x00, 0x01, // node_id: 1
            0x0a, // host: COMPACT_STRING of 9
        ];
        bytes.extend_from_slice(b"localhost");
        bytes.extend_from_slice(&[
            0x00, 0x00, 0x23, 0x84, // port: 9092
            0x00, // rack: null
            0x00, // TAG_BUFFER of the broker
            0x05, b'a', b'b', b'c', b'd', // cluster_id: COMPACT_NULLABLE_STRING of 4
            0x00, 0x00, 0x00, 0x01, // controller_id: 1
            0x02, // topics: COMPACT_ARRAY of 1
            0x00, 0x00, // error_code: 0
            0x07, // name: COMPACT_NULLABLE_STRING of 6
        ]);
        bytes.extend_from_slice(b"orders");
        bytes.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]); // topic_id
        bytes.extend_from_slice(&[
            0x00, // is_internal: false
            0x02, // partitions: COMPACT_ARRAY of 1
            0x00, 0x00, // error_code: 0
            0x00, 0x00, 0x00, 0x00, // partition_index: 0
            0x00, 0x00, 0x00, 0x01, // leader_id: 1
            0x00, 0x00, 0x00, 0x05, // leader_epoch: 5
            0x02, 0x00, 0x00, 0x00, 0x01, // replica_nodes: [1]
            0x02, 0x00, 0x00, 0x00, 0x01, // isr_nodes: [1]
            0x01, // offline_replicas: []
            0x00, // TAG_BUFFER of the partition
            0x80, 0x00, 0x00, 0x00, // topic_authorized_operations: i32::MIN
            0x00, // TAG_BUFFER of the topic
            // (no cluster_authorized_operations after v10)
            0x00, 0x00, // error_code: 0 (top level, v13)
            0x00, // TAG_BUFFER
        ]);
        assert_encodes_to(&response, 13, &bytes);
    }

    #[test]
    fn v0_response_bytes() {
        let response = MetadataResponse {
            brokers: vec![MetadataBroker {
                node_id: 1,
                host: "kafka".into(),
                port: 9092,
                rack: None,
            }],
            topics: vec![MetadataTopic {
                error_code: 3,
                name: Some("t".into()),
                ..MetadataTopic::default()
            }],
            ..MetadataResponse::default()
        };
        let mut bytes = vec![
            0x00, 0x00, 0x00, 0x01, // brokers: ARRAY of 1
            0x00, 0x00, 0x00, 0x01, // node_id: 1
            0x00, 0x05, // host: STRING of 5
        ];
        bytes.extend_from_slice(b"kafka");
        bytes.extend_from_slice(&[
            0x00, 0x00, 0x23, 0x84, // port: 9092
            0x00, 0x00, 0x00, 0x01, // topics: ARRAY of 1
            0x00, 0x03, // error_code: 3 UNKNOWN_TOPIC_OR_PARTITION
            0x00, 0x01, b't', // name: STRING of 1
            0x00, 0x00, 0x00, 0x00, // partitions: ARRAY of 0
        ]);
        assert_encodes_to(&response, 0, &bytes);
    }

    #[test]
    fn v13_top_level_error_code_and_unknown_tags_are_read() {
        let bytes: &[u8] = &[
            0x00, 0x00, 0x00, 0x00, // throttle_time_ms
            0x01, // brokers: empty
            0x00, // cluster_id: null
            0xff, 0xff, 0xff, 0xff, // controller_id: -1
            0x01, // topics: empty
            0x00, 0x81, // error_code: 129 REBOOTSTRAP_REQUIRED
            0x01, 0x07, 0x02, 0xab, 0xcd, // one unknown tagged field (tag 7, 2 bytes)
        ];
        let response: MetadataResponse = decode_exact(Bytes::from_static(bytes), 13).unwrap();
        assert_eq!(response.error_code, 129);
        assert_eq!(response.controller_id, -1);
        assert!(response.brokers.is_empty() && response.topics.is_empty());
    }

    // -- fields a version cannot carry -----------------------------------------------------

    #[test]
    fn request_fields_that_are_not_ignorable_fail_in_old_versions() {
        let versions = MetadataRequest::VERSIONS;
        let no_auto = MetadataRequest {
            allow_auto_topic_creation: false,
            ..MetadataRequest::for_topics(["t"])
        };
        assert_not_ignorable(
            &no_auto,
            versions,
            "allow_auto_topic_creation = false",
            |v| v >= 4,
        );

        let cluster_ops = MetadataRequest {
            include_cluster_authorized_operations: true,
            ..MetadataRequest::all_topics()
        };
        assert_not_ignorable(
            &cluster_ops,
            versions,
            "include_cluster_authorized_operations",
            has_cluster_authorized_operations,
        );

        let topic_ops = MetadataRequest {
            include_topic_authorized_operations: true,
            ..MetadataRequest::all_topics()
        };
        assert_not_ignorable(
            &topic_ops,
            versions,
            "include_topic_authorized_operations",
            |v| v >= 8,
        );

        let by_id = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                topic_id: [7; 16],
                name: None,
            }]),
            ..MetadataRequest::all_topics()
        };
        assert_not_ignorable(&by_id, versions, "topics[].name = null", |v| v >= 10);
    }

    #[test]
    fn request_topic_id_is_dropped_below_v10() {
        let request = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                topic_id: [7; 16],
                name: Some("t".into()),
            }]),
            ..MetadataRequest::all_topics()
        };
        assert_eq!(
            over_the_wire(&request, 9),
            MetadataRequest::for_topics(["t"])
        );
    }

    #[test]
    fn response_fields_that_are_not_ignorable_fail_in_old_versions() {
        let versions = MetadataRequest::VERSIONS;
        let cluster_ops = MetadataResponse {
            cluster_authorized_operations: 0b1000,
            ..MetadataResponse::default()
        };
        assert_not_ignorable(
            &cluster_ops,
            versions,
            "cluster_authorized_operations",
            has_cluster_authorized_operations,
        );

        let topic = |topic: MetadataTopic| MetadataResponse {
            topics: vec![topic],
            ..MetadataResponse::default()
        };
        let unnamed = topic(MetadataTopic {
            topic_id: [1; 16],
            ..MetadataTopic::default()
        });
        assert_not_ignorable(&unnamed, versions, "topics[].name = null", |v| v >= 12);

        let topic_ops = topic(MetadataTopic {
            name: Some("t".into()),
            topic_authorized_operations: 0,
            ..MetadataTopic::default()
        });
        assert_not_ignorable(
            &topic_ops,
            versions,
            "topics[].topic_authorized_operations",
            |v| v >= 8,
        );
    }

    #[test]
    fn ignorable_response_fields_are_reset_to_their_defaults_in_old_versions() {
        let full = MetadataResponse {
            throttle_time_ms: 100,
            brokers: vec![MetadataBroker {
                node_id: 2,
                host: "h".into(),
                port: 1,
                rack: Some("r".into()),
            }],
            cluster_id: Some("c".into()),
            controller_id: 2,
            topics: vec![MetadataTopic {
                name: Some("t".into()),
                topic_id: [9; 16],
                is_internal: true,
                partitions: vec![MetadataPartition {
                    leader_id: 2,
                    leader_epoch: 4,
                    replica_nodes: vec![2, 3],
                    isr_nodes: vec![2],
                    offline_replicas: vec![3],
                    ..MetadataPartition::default()
                }],
                ..MetadataTopic::default()
            }],
            error_code: 129,
            ..MetadataResponse::default()
        };
        let v0 = over_the_wire(&full, 0);
        let mut expected = full.clone();
        expected.throttle_time_ms = 0;
        expected.brokers[0].rack = None;
        expected.cluster_id = None;
        expected.controller_id = -1;
        expected.topics[0].topic_id = ZERO_UUID;
        expected.topics[0].is_internal = false;
        expected.topics[0].partitions[0].leader_epoch = -1;
        expected.topics[0].partitions[0].offline_replicas = vec![];
        expected.error_code = 0;
        assert_eq!(v0, expected);
    }

    #[test]
    fn huge_array_counts_are_rejected_before_allocating() {
        // v13, brokers: COMPACT_ARRAY claiming 2^28 - 1 elements in a few bytes.
        let bytes = Bytes::from_static(&[0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f, 0x00]);
        assert!(matches!(
            decode_exact::<MetadataResponse>(bytes, 13),
            Err(DecodeError::InvalidLength { .. })
        ));
    }

    // -- property tests --------------------------------------------------------------------

    fn topic_id(version: i16) -> BoxedStrategy<Uuid> {
        since(version >= 10, any::<Uuid>(), ZERO_UUID)
    }

    fn request_topic(version: i16) -> impl Strategy<Value = MetadataRequestTopic> {
        let topic_name = if version >= 10 {
            option::of(name()).boxed()
        } else {
            name().prop_map(Some).boxed()
        };
        (topic_id(version), topic_name)
            .prop_map(|(topic_id, name)| MetadataRequestTopic { topic_id, name })
    }

    fn request_for(version: i16) -> impl Strategy<Value = MetadataRequest> {
        let min_topics = if version == 0 { 1 } else { 0 };
        (
            option::of(vec(request_topic(version), min_topics..3)),
            since(version >= 4, any::<bool>(), true),
            since(
                has_cluster_authorized_operations(version),
                any::<bool>(),
                false,
            ),
            since(version >= 8, any::<bool>(), false),
        )
            .prop_map(|(topics, allow, cluster, topic)| MetadataRequest {
                topics,
                allow_auto_topic_creation: allow,
                include_cluster_authorized_operations: cluster,
                include_topic_authorized_operations: topic,
            })
    }

    fn broker(version: i16) -> impl Strategy<Value = MetadataBroker> {
        (
            any::<i32>(),
            name(),
            any::<i32>(),
            since(version >= 1, option::of(name()), None),
        )
            .prop_map(|(node_id, host, port, rack)| MetadataBroker {
                node_id,
                host,
                port,
                rack,
            })
    }

    fn partition(version: i16) -> impl Strategy<Value = MetadataPartition> {
        let nodes = || vec(any::<i32>(), 0..3);
        (
            (any::<i16>(), any::<i32>(), any::<i32>()),
            since(version >= 7, any::<i32>(), -1),
            nodes(),
            nodes(),
            since(version >= 5, nodes(), Vec::new()),
        )
            .prop_map(
                |(
                    (error_code, partition_index, leader_id),
                    leader_epoch,
                    replica_nodes,
                    isr_nodes,
                    offline_replicas,
                )| {
                    MetadataPartition {
                        error_code,
                        partition_index,
                        leader_id,
                        leader_epoch,
                        replica_nodes,
                        isr_nodes,
                        offline_replicas,
                    }
                },
            )
    }

    fn topic(version: i16) -> impl Strategy<Value = MetadataTopic> {
        let name = if version >= 12 {
            option::of(name()).boxed()
        } else {
            name().prop_map(Some).boxed()
        };
        (
            any::<i16>(),
            name,
            topic_id(version),
            since(version >= 1, any::<bool>(), false),
            vec(partition(version), 0..3),
            since(version >= 8, any::<i32>(), AUTHORIZED_OPERATIONS_OMITTED),
        )
            .prop_map(
                |(error_code, name, topic_id, is_internal, partitions, ops)| MetadataTopic {
                    error_code,
                    name,
                    topic_id,
                    is_internal,
                    partitions,
                    topic_authorized_operations: ops,
                },
            )
    }

    fn response_for(version: i16) -> impl Strategy<Value = MetadataResponse> {
        (
            since(version >= 3, any::<i32>(), 0),
            vec(broker(version), 0..3),
            since(version >= 2, option::of(name()), None),
            since(version >= 1, any::<i32>(), -1),
            vec(topic(version), 0..3),
            since(
                has_cluster_authorized_operations(version),
                any::<i32>(),
                AUTHORIZED_OPERATIONS_OMITTED,
            ),
            since(version >= 13, any::<i16>(), 0),
        )
            .prop_map(
                |(
                    throttle,
                    brokers,
                    cluster_id,
                    controller_id,
                    topics,
                    cluster_ops,
                    error_code,
                )| {
                    MetadataResponse {
                        throttle_time_ms: throttle,
                        brokers,
                        cluster_id,
                        controller_id,
                        topics,
                        cluster_authorized_operations: cluster_ops,
                        error_code,
                    }
                },
            )
    }

    message_tests! {
        request: MetadataRequest = request_for,
        response: MetadataResponse = response_for,
        random_input_len: 96,
    }
}
