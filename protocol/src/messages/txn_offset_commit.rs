//! TxnOffsetCommit (API key 28), versions 0 to 5: a transactional producer commits a consumer
//! group's offsets to the group coordinator as part of its transaction
//! (consume-transform-produce); they become visible when the transaction commits.
//!
//! Wire layout (flexible from v3):
//!
//! ```text
//! request   transactional_id STRING, group_id STRING, producer_id INT64, producer_epoch INT16,
//!           generation_id INT32 (v3+), member_id STRING (v3+),
//!           group_instance_id NULLABLE_STRING (v3+),
//!           topics [name STRING,
//!                   partitions [partition_index INT32, committed_offset INT64,
//!                               committed_leader_epoch INT32 (v2+),
//!                               committed_metadata NULLABLE_STRING, TAG_BUFFER],
//!                   TAG_BUFFER], TAG_BUFFER (v3+)
//! response  throttle_time_ms INT32,
//!           topics [name STRING, partitions [partition_index INT32, error_code INT16, TAG_BUFFER],
//!                   TAG_BUFFER], TAG_BUFFER (v3+)
//! ```
//!
//! v1 is the same as v0; v2 added the leader epoch (ignorable, default -1); v3 the consumer's
//! group metadata (KIP-447: generation, member id, group instance id; defaults -1, "", null,
//! which a producer without a consumer sends); v4 and v5 only allow new error codes and the
//! transaction version 2 checks (KIP-890).
//!
//! # References
//! - `TxnOffsetCommitRequest.json`, `TxnOffsetCommitResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-98 (transactions), KIP-447 (producer scalability for exactly once: group metadata),
//!   KIP-890 (transaction version 2)

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{
    check_field, min_array_len, min_string_len, put_tags, skip_tags, tags_len,
};
use crate::primitives::{
    get_array, get_i16, get_i32, get_i64, get_nullable_string, get_string, put_array,
    put_nullable_string, put_string,
};

/// The first flexible version of TxnOffsetCommit.
const FIRST_FLEXIBLE: i16 = 3;

/// The version that added the committed leader epoch.
const LEADER_EPOCH: i16 = 2;

/// The version that added the consumer's group metadata (KIP-447).
const GROUP_METADATA: i16 = 3;

/// The TxnOffsetCommit request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The consumer group.
    pub group_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// The consumer's generation (v3+, default -1; not ignorable).
    pub generation_id: i32,
    /// The consumer's member id (v3+, default ""; not ignorable).
    pub member_id: String,
    /// The consumer's static instance id (v3+, default null; not ignorable).
    pub group_instance_id: Option<String>,
    /// The offsets, by topic.
    pub topics: Vec<TxnOffsetCommitTopic>,
}

impl Default for TxnOffsetCommitRequest {
    fn default() -> Self {
        Self {
            transactional_id: String::new(),
            group_id: String::new(),
            producer_id: -1,
            producer_epoch: -1,
            generation_id: -1,
            member_id: String::new(),
            group_instance_id: None,
            topics: Vec::new(),
        }
    }
}

/// One topic's offsets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitTopic {
    /// The topic.
    pub name: String,
    /// Its partitions' offsets.
    pub partitions: Vec<TxnOffsetCommitPartition>,
}

/// One partition's offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnOffsetCommitPartition {
    /// The partition.
    pub partition_index: i32,
    /// The offset to commit (the next record the group will read).
    pub committed_offset: i64,
    /// The leader epoch of the last record consumed (v2+, ignorable; default -1).
    pub committed_leader_epoch: i32,
    /// Metadata kept with the offset.
    pub committed_metadata: Option<String>,
}

impl Default for TxnOffsetCommitPartition {
    fn default() -> Self {
        Self {
            partition_index: 0,
            committed_offset: 0,
            committed_leader_epoch: -1,
            committed_metadata: None,
        }
    }
}

impl Encode for TxnOffsetCommitRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let metadata = version >= GROUP_METADATA;
        check_field("generation_id", version, metadata, self.generation_id == -1)?;
        check_field("member_id", version, metadata, self.member_id.is_empty())?;
        check_field(
            "group_instance_id",
            version,
            metadata,
            self.group_instance_id.is_none(),
        )?;
        let flexible = Self::is_flexible(version);
        put_string(buf, &self.transactional_id, flexible)?;
        put_string(buf, &self.group_id, flexible)?;
        buf.put_i64(self.producer_id);
        buf.put_i16(self.producer_epoch);
        if metadata {
            buf.put_i32(self.generation_id);
            put_string(buf, &self.member_id, flexible)?;
            put_nullable_string(buf, self.group_instance_id.as_deref(), flexible)?;
        }
        put_array(buf, &self.topics, flexible, |b, topic| {
            put_string(b, &topic.name, flexible)?;
            put_array(b, &topic.partitions, flexible, |b, p| {
                b.put_i32(p.partition_index);
                b.put_i64(p.committed_offset);
                if version >= LEADER_EPOCH {
                    b.put_i32(p.committed_leader_epoch);
                }
                put_nullable_string(b, p.committed_metadata.as_deref(), flexible)?;
                put_tags(b, flexible);
                Ok(())
            })?;
            put_tags(b, flexible);
            Ok(())
        })?;
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for TxnOffsetCommitRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let mut request = Self {
            transactional_id: get_string(buf, flexible)?,
            group_id: get_string(buf, flexible)?,
            producer_id: get_i64(buf)?,
            producer_epoch: get_i16(buf)?,
            ..Self::default()
        };
        if version >= GROUP_METADATA {
            request.generation_id = get_i32(buf)?;
            request.member_id = get_string(buf, flexible)?;
            request.group_instance_id = get_nullable_string(buf, flexible)?;
        }
        let epoch_len = if version >= LEADER_EPOCH { 4 } else { 0 };
        // partition_index, committed_offset, the epoch, the metadata's length, tags.
        let partition_len = 4 + 8 + epoch_len + min_string_len(flexible) + tags_len(flexible);
        let topic_len = min_string_len(flexible) + min_array_len(flexible) + tags_len(flexible);
        request.topics = get_array(buf, flexible, topic_len, |b| {
            let name = get_string(b, flexible)?;
            let partitions = get_array(b, flexible, partition_len, |b| {
                let partition = TxnOffsetCommitPartition {
                    partition_index: get_i32(b)?,
                    committed_offset: get_i64(b)?,
                    committed_leader_epoch: if version >= LEADER_EPOCH {
                        get_i32(b)?
                    } else {
                        -1
                    },
                    committed_metadata: get_nullable_string(b, flexible)?,
                };
                skip_tags(b, flexible)?;
                Ok(partition)
            })?;
            skip_tags(b, flexible)?;
            Ok(TxnOffsetCommitTopic { name, partitions })
        })?;
        skip_tags(buf, flexible)?;
        Ok(request)
    }
}

impl Request for TxnOffsetCommitRequest {
    const API_KEY: ApiKey = ApiKey::TxnOffsetCommit;
    const VERSIONS: VersionRange = VersionRange::new(0, 5);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = TxnOffsetCommitResponse;
}

/// The TxnOffsetCommit response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitResponse {
    /// How long the request was throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// Each topic's results.
    pub topics: Vec<TxnOffsetCommitTopicResult>,
}

/// One topic's results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitTopicResult {
    /// The topic.
    pub name: String,
    /// Each partition's error code.
    pub partitions: Vec<TxnOffsetCommitPartitionResult>,
}

/// One partition's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TxnOffsetCommitPartitionResult {
    /// The partition.
    pub partition_index: i32,
    /// The error code, 0 on success.
    pub error_code: i16,
}

impl Encode for TxnOffsetCommitResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<TxnOffsetCommitRequest>(version)?;
        let flexible = TxnOffsetCommitRequest::is_flexible(version);
        buf.put_i32(self.throttle_time_ms);
        put_array(buf, &self.topics, flexible, |b, topic| {
            put_string(b, &topic.name, flexible)?;
            put_array(b, &topic.partitions, flexible, |b, p| {
                b.put_i32(p.partition_index);
                b.put_i16(p.error_code);
                put_tags(b, flexible);
                Ok(())
            })?;
            put_tags(b, flexible);
            Ok(())
        })?;
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for TxnOffsetCommitResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<TxnOffsetCommitRequest>(version)?;
        let flexible = TxnOffsetCommitRequest::is_flexible(version);
        let throttle_time_ms = get_i32(buf)?;
        let topic_len = min_string_len(flexible) + min_array_len(flexible) + tags_len(flexible);
        let topics = get_array(buf, flexible, topic_len, |b| {
            let name = get_string(b, flexible)?;
            let partitions = get_array(b, flexible, 4 + 2 + tags_len(flexible), |b| {
                let result = TxnOffsetCommitPartitionResult {
                    partition_index: get_i32(b)?,
                    error_code: get_i16(b)?,
                };
                skip_tags(b, flexible)?;
                Ok(result)
            })?;
            skip_tags(b, flexible)?;
            Ok(TxnOffsetCommitTopicResult { name, partitions })
        })?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            throttle_time_ms,
            topics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{
        assert_encodes_to, assert_not_ignorable, golden_exchange, message_tests, name,
        over_the_wire, since,
    };
    use proptest::prelude::*;

    fn offset_42() -> TxnOffsetCommitRequest {
        TxnOffsetCommitRequest {
            transactional_id: "tx".into(),
            group_id: "g".into(),
            producer_id: 7,
            producer_epoch: 1,
            topics: vec![TxnOffsetCommitTopic {
                name: "t".into(),
                partitions: vec![TxnOffsetCommitPartition {
                    partition_index: 0,
                    committed_offset: 42,
                    committed_leader_epoch: -1,
                    committed_metadata: Some("m".into()),
                }],
            }],
            ..TxnOffsetCommitRequest::default()
        }
    }

    #[test]
    fn v3_bytes_written_from_the_schema() {
        assert_encodes_to(
            &offset_42(),
            3,
            &[
                0x03, b't', b'x', // transactional_id
                0x02, b'g', // group_id
                0, 0, 0, 0, 0, 0, 0, 7, // producer_id
                0, 1, // producer_epoch
                0xff, 0xff, 0xff, 0xff, // generation_id: -1
                0x01, // member_id: ""
                0x00, // group_instance_id: null
                0x02, // topics: 1
                0x02, b't', // name
                0x02, // partitions: 1
                0, 0, 0, 0, // partition_index
                0, 0, 0, 0, 0, 0, 0, 42, // committed_offset
                0xff, 0xff, 0xff, 0xff, // committed_leader_epoch: -1
                0x02, b'm', // committed_metadata
                0,    // partition tags
                0,    // topic tags
                0,    // request tags
            ],
        );
    }

    #[test]
    fn group_metadata_is_refused_before_v3_and_the_epoch_dropped_before_v2() {
        let mut with_member = offset_42();
        with_member.member_id = "consumer-1".into();
        with_member.generation_id = 5;
        assert_not_ignorable(
            &with_member,
            TxnOffsetCommitRequest::VERSIONS,
            "generation_id",
            |v| v >= GROUP_METADATA,
        );
        let mut with_epoch = offset_42();
        with_epoch.topics[0].partitions[0].committed_leader_epoch = 3;
        let back = over_the_wire(&with_epoch, 1);
        assert_eq!(back.topics[0].partitions[0].committed_leader_epoch, -1);
        assert_eq!(
            over_the_wire(&with_epoch, 2).topics[0].partitions[0].committed_leader_epoch,
            3
        );
    }

    fn partition(version: i16) -> impl Strategy<Value = TxnOffsetCommitPartition> {
        (
            any::<i32>(),
            any::<i64>(),
            since(version >= LEADER_EPOCH, any::<i32>(), -1),
            proptest::option::of(name()),
        )
            .prop_map(
                |(
                    partition_index,
                    committed_offset,
                    committed_leader_epoch,
                    committed_metadata,
                )| {
                    TxnOffsetCommitPartition {
                        partition_index,
                        committed_offset,
                        committed_leader_epoch,
                        committed_metadata,
                    }
                },
            )
    }

    fn request_for(version: i16) -> impl Strategy<Value = TxnOffsetCommitRequest> {
        let metadata = version >= GROUP_METADATA;
        let topic = (name(), proptest::collection::vec(partition(version), 0..3))
            .prop_map(|(name, partitions)| TxnOffsetCommitTopic { name, partitions });
        (
            (name(), name(), any::<i64>(), any::<i16>()),
            since(
                metadata,
                (any::<i32>(), name(), proptest::option::of(name())),
                (-1, String::new(), None),
            ),
            proptest::collection::vec(topic, 0..3),
        )
            .prop_map(
                |(
                    (transactional_id, group_id, producer_id, producer_epoch),
                    (generation_id, member_id, group_instance_id),
                    topics,
                )| TxnOffsetCommitRequest {
                    transactional_id,
                    group_id,
                    producer_id,
                    producer_epoch,
                    generation_id,
                    member_id,
                    group_instance_id,
                    topics,
                },
            )
    }

    fn response() -> impl Strategy<Value = TxnOffsetCommitResponse> {
        let partition = (any::<i32>(), any::<i16>()).prop_map(|(partition_index, error_code)| {
            TxnOffsetCommitPartitionResult {
                partition_index,
                error_code,
            }
        });
        let topic = (name(), proptest::collection::vec(partition, 0..3))
            .prop_map(|(name, partitions)| TxnOffsetCommitTopicResult { name, partitions });
        (any::<i32>(), proptest::collection::vec(topic, 0..3)).prop_map(
            |(throttle_time_ms, topics)| TxnOffsetCommitResponse {
                throttle_time_ms,
                topics,
            },
        )
    }

    message_tests! {
        request: TxnOffsetCommitRequest = request_for,
        response: TxnOffsetCommitResponse = |_| response(),
        random_input_len: 64,
    }

    // -- golden frames from Kafka 4.1.1 and the Java client (tests/golden/) ----------------

    #[test]
    fn v5_and_v4_golden_frames_commit_offset_42() {
        for (request_frame, response_frame, version, transactional_id, group_id, producer_id) in [
            (
                &include_bytes!("../../tests/golden/transactional/c2-18-txn_offset_commit-v5-request.bin")[..],
                &include_bytes!("../../tests/golden/transactional/c2-19-txn_offset_commit-v5-response.bin")[..],
                5,
                "golden-tx-transactional",
                "golden-group-transactional",
                0,
            ),
            (
                &include_bytes!(
                    "../../tests/golden/client39-transactional/c2-16-txn_offset_commit-v4-request.bin"
                )[..],
                &include_bytes!(
                    "../../tests/golden/client39-transactional/c2-17-txn_offset_commit-v4-response.bin"
                )[..],
                4,
                "golden-tx-client39-transactional",
                "golden-group-client39-transactional",
                1,
            ),
        ] {
            let request_frame: &'static [u8] = request_frame;
            let response_frame: &'static [u8] = response_frame;
            let (request, response) =
                golden_exchange::<TxnOffsetCommitRequest>(request_frame, response_frame, version);
            assert_eq!(request.transactional_id, transactional_id);
            assert_eq!(request.group_id, group_id);
            assert_eq!((request.producer_id, request.producer_epoch), (producer_id, 0));
            // A group known only by its id, as Java's new ConsumerGroupMetadata(groupId).
            assert_eq!((request.generation_id, request.member_id.as_str()), (-1, ""));
            assert_eq!(request.group_instance_id, None);
            let partition = &request.topics[0].partitions[0];
            assert_eq!(partition.committed_offset, 42);
            assert_eq!(partition.committed_metadata.as_deref(), Some("golden"));
            assert_eq!(response.topics[0].partitions[0].error_code, 0);
        }
    }
}
