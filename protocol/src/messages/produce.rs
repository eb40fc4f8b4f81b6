//! Produce (API key 0), versions 3 to 12: writes record batches to partition leaders.
//!
//! Wire layout (flexible from v9, where every struct, nested ones included, ends with a
//! TAG_BUFFER, and strings, arrays and records use their compact forms):
//!
//! ```text
//! request   transactional_id NULLABLE_STRING
//!           acks INT16
//!           timeout_ms INT32
//!           topic_data [name STRING,
//!                       partition_data [index INT32, records RECORDS (nullable)]]
//! response  responses [name STRING,
//!                      partition_responses [index INT32, error_code INT16,
//!                                           base_offset INT64, log_append_time_ms INT64,
//!                                           log_start_offset INT64 (v5+),
//!                                           record_errors [batch_index INT32,
//!                                                          batch_index_error_message
//!                                                          NULLABLE_STRING] (v8+),
//!                                           error_message NULLABLE_STRING (v8+),
//!                                           tag 0: current_leader {leader_id INT32,
//!                                                  leader_epoch INT32} (v10+)]]
//!           throttle_time_ms INT32          (after the responses, unlike Metadata)
//!           tag 0: node_endpoints [node_id INT32, host STRING, port INT32,
//!                                  rack NULLABLE_STRING] (v10+)
//! ```
//!
//! v3 is the first version that carries RecordBatch v2 and the last one Kafka 4.x accepts at
//! the low end; v4 to v6 only allow new error codes; v7 allows zstd batches; v8 added
//! `record_errors` and `error_message`; v9 is the first flexible version; v10 added the two
//! tagged fields (KIP-951); v11 and v12 only allow new error codes and transaction rules
//! (KIP-890). v13 (Kafka 4.1) names topics by id, so this codec stops at v12, the newest
//! version that still names topics.
//!
//! Records are already-encoded RecordBatch bytes ([`crate::record`]). They are written with
//! one copy into the output ([`Encode`]), or not copied at all
//! ([`ProduceRequest::encode_frame_chunks`], for vectored writes), and decoded without
//! copying (the decoded [`Bytes`] share the input buffer).
//! [`ProduceRequest::encoded_len`] gives the exact body size so the caller can reserve once.
//!
//! Fields a version cannot carry follow Kafka's generated code: the ignorable ones
//! (`log_start_offset` below v5, `record_errors` and `error_message` below v8) are left out
//! when encoding and take their defaults when decoding (-1, empty, null). The tagged fields
//! `current_leader` and `node_endpoints` are not ignorable: setting them below v10 fails with
//! [`EncodeError::FieldNotAvailable`]. Unknown tagged fields are read and dropped, at every
//! level.
//!
//! # References
//! - `ProduceRequest.json`, `ProduceResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/` (v0-v11); v12 (Kafka 4.0, same body as v11)
//!   checked against the Kafka 4.1 schemas as generated in tychedelia/kafka-protocol-rs
//!   `produce_{request,response}.rs`
//! - Golden frames captured from Kafka 4.1.1 and kafka-clients 4.0.1 / 3.9.1 in
//!   `protocol/tests/golden/` (Produce v12 and v11)
//! - KIP-98 (RecordBatch v2, transactional id), KIP-110 (zstd), KIP-467 (record errors),
//!   KIP-482 (flexible versions), KIP-890 (transactions v2), KIP-951 (leader discovery),
//!   KIP-896 (v0-v2 removed in 4.0)

use bytes::{BufMut, Bytes, BytesMut};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::header::RequestHeader;
use crate::messages::common::{
    check_field, min_array_len, min_string_len, put_tags, read_tagged_field, skip_tags,
    tagged_field, tags_len,
};
use crate::primitives::{
    bytes_len, get_array, get_i16, get_i32, get_i64, get_nullable_bytes, get_nullable_string,
    get_string, get_tagged_fields, length_prefix_len, put_array, put_array_len,
    put_nullable_bytes_len, put_nullable_string, put_string, put_tagged_fields, string_len,
};

/// The first flexible version of Produce.
const FIRST_FLEXIBLE: i16 = 9;

/// The version that added `log_start_offset` to the partition response.
const LOG_START_OFFSET: i16 = 5;

/// The version that added `record_errors` and `error_message` to the partition response.
const RECORD_ERRORS: i16 = 8;

/// The version that added the `current_leader` and `node_endpoints` tagged fields.
const LEADER_DISCOVERY: i16 = 10;

/// Tag of `current_leader` in a partition response (v10+).
const TAG_CURRENT_LEADER: u32 = 0;

/// Tag of `node_endpoints` in the response body (v10+).
const TAG_NODE_ENDPOINTS: u32 = 0;

// ---------------------------------------------------------------------------------------
// Request
// ---------------------------------------------------------------------------------------

/// The Produce request: record batches for partitions led by one broker.
///
/// **With `acks = 0` the broker sends no response at all**, not even on errors (it closes
/// the connection instead when a partition failed). The client must not wait for one, nor
/// count the request as in flight for response matching; see [`Self::expects_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceRequest {
    /// The transactional id, or `None` when the producer is not transactional.
    pub transactional_id: Option<String>,
    /// Acknowledgements required before the broker answers: 0 (none, and no response),
    /// 1 (the leader) or -1 (all in-sync replicas). Anything else gets
    /// INVALID_REQUIRED_ACKS from the broker.
    pub acks: i16,
    /// How long the broker waits for the acknowledgements (acks = -1), in milliseconds.
    pub timeout_ms: i32,
    /// The topics to write to.
    pub topics: Vec<TopicProduceData>,
}

/// One topic of a [`ProduceRequest`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicProduceData {
    /// The topic name.
    pub name: String,
    /// The partitions to write to.
    pub partitions: Vec<PartitionProduceData>,
}

/// One partition of a [`TopicProduceData`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionProduceData {
    /// The partition index.
    pub index: i32,
    /// The encoded record batch (exactly one RecordBatch v2 for v3+, as the broker requires).
    /// `None` is null on the wire, which a broker rejects.
    pub records: Option<Bytes>,
}

impl ProduceRequest {
    /// Whether the broker answers this request: false for `acks = 0`.
    pub const fn expects_response(&self) -> bool {
        self.acks != 0
    }

    /// The exact number of bytes [`Encode::encode`] writes for this request in `version`
    /// (the body only: no size prefix, no header). For a version outside
    /// [`Request::VERSIONS`] the number is meaningless, as encoding fails there.
    pub fn encoded_len(&self, version: i16) -> usize {
        let flexible = Self::is_flexible(version);
        let topics: usize = self
            .topics
            .iter()
            .map(|topic| topic.encoded_len(version))
            .sum();
        string_len(self.transactional_id.as_deref(), flexible)
            + 2
            + 4
            + length_prefix_len(Some(self.topics.len()), flexible, false)
            + topics
            + tags_len(flexible)
    }

    /// The number of partitions the request carries, over all topics.
    pub fn partition_count(&self) -> usize {
        self.topics.iter().map(|t| t.partitions.len()).sum()
    }

    /// Encodes a whole request frame (size prefix, request header, body) as a list of chunks
    /// for a vectored write, without copying the record batches: each records blob of at
    /// least `inline_below` bytes is its own chunk (sharing the request's buffer); smaller
    /// ones are copied into the surrounding chunk. The chunks, concatenated, are exactly
    /// what [`crate::frame::encode_request`] writes.
    pub fn encode_frame_chunks(
        &self,
        version: i16,
        correlation_id: i32,
        client_id: Option<&str>,
        inline_below: usize,
    ) -> Result<Vec<Bytes>, EncodeError> {
        check_encode_version::<Self>(version)?;
        let header = RequestHeader {
            api_key: Self::API_KEY.code(),
            api_version: version,
            correlation_id,
            client_id: client_id.map(str::to_owned),
            tagged_fields: Vec::new(),
        };
        let mut buf = BytesMut::new();
        buf.put_i32(0); // patched below, once the header size is known
        header.encode(&mut buf, Self::request_header_version(version))?;
        let size = buf.len() - 4 + self.encoded_len(version);
        let size = i32::try_from(size).map_err(|_| EncodeError::TooLong {
            what: "frame",
            length: size,
            max: i32::MAX as usize,
        })?;
        buf[..4].copy_from_slice(&size.to_be_bytes());

        let mut chunks = Vec::with_capacity(2 * self.partition_count() + 1);
        self.write_body(
            &mut buf,
            version,
            &mut |buf: &mut BytesMut, records: &Bytes| {
                if records.is_empty() || records.len() < inline_below {
                    buf.put_slice(records);
                } else {
                    if !buf.is_empty() {
                        chunks.push(buf.split().freeze());
                    }
                    chunks.push(records.clone());
                }
            },
        )?;
        if !buf.is_empty() {
            chunks.push(buf.freeze());
        }
        Ok(chunks)
    }

    /// Writes the body; `put_records` writes each non-null records payload after its
    /// length prefix.
    fn write_body<B: BufMut>(
        &self,
        buf: &mut B,
        version: i16,
        put_records: &mut impl FnMut(&mut B, &Bytes),
    ) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        put_nullable_string(buf, self.transactional_id.as_deref(), flexible)?;
        buf.put_i16(self.acks);
        buf.put_i32(self.timeout_ms);
        put_array_len(buf, Some(self.topics.len()), flexible)?;
        for topic in &self.topics {
            put_string(buf, &topic.name, flexible)?;
            put_array_len(buf, Some(topic.partitions.len()), flexible)?;
            for partition in &topic.partitions {
                buf.put_i32(partition.index);
                let records = partition.records.as_ref();
                put_nullable_bytes_len(buf, records.map(Bytes::len), flexible, "records")?;
                if let Some(records) = records {
                    put_records(buf, records);
                }
                put_tags(buf, flexible);
            }
            put_tags(buf, flexible);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

/// The smallest topic entry, in the request or the response alike: a name, an array of
/// partitions and a tag buffer.
fn topic_min_size(version: i16) -> usize {
    let flexible = ProduceRequest::is_flexible(version);
    min_string_len(flexible) + min_array_len(flexible) + tags_len(flexible)
}

/// Reads a topic entry of the request or the response: its name, its partitions (each at
/// least `partition_min_size` bytes, read with `read_partition`) and its tag buffer.
fn read_topic<P>(
    buf: &mut Bytes,
    version: i16,
    partition_min_size: usize,
    read_partition: impl Fn(&mut Bytes, i16) -> Result<P, DecodeError>,
) -> Result<(String, Vec<P>), DecodeError> {
    let flexible = ProduceRequest::is_flexible(version);
    let name = get_string(buf, flexible)?;
    let partitions = get_array(buf, flexible, partition_min_size, |b| {
        read_partition(b, version)
    })?;
    skip_tags(buf, flexible)?;
    Ok((name, partitions))
}

impl TopicProduceData {
    fn encoded_len(&self, version: i16) -> usize {
        let flexible = ProduceRequest::is_flexible(version);
        let partitions: usize = self
            .partitions
            .iter()
            .map(|partition| partition.encoded_len(version))
            .sum();
        string_len(Some(&self.name), flexible)
            + length_prefix_len(Some(self.partitions.len()), flexible, false)
            + partitions
            + tags_len(flexible)
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let partition_min_size = PartitionProduceData::min_size(version);
        let (name, partitions) =
            read_topic(buf, version, partition_min_size, PartitionProduceData::read)?;
        Ok(Self { name, partitions })
    }
}

impl PartitionProduceData {
    fn min_size(version: i16) -> usize {
        let flexible = ProduceRequest::is_flexible(version);
        4 + min_array_len(flexible) + tags_len(flexible)
    }

    fn encoded_len(&self, version: i16) -> usize {
        let flexible = ProduceRequest::is_flexible(version);
        4 + bytes_len(self.records.as_ref().map(Bytes::len), flexible) + tags_len(flexible)
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = ProduceRequest::is_flexible(version);
        let index = get_i32(buf)?;
        // Zero-copy: the records share `buf`'s allocation.
        let records = get_nullable_bytes(buf, flexible)?;
        skip_tags(buf, flexible)?;
        Ok(Self { index, records })
    }
}

impl Encode for ProduceRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        self.write_body(buf, version, &mut |buf: &mut B, records: &Bytes| {
            buf.put_slice(records);
        })
    }
}

impl Decode for ProduceRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let transactional_id = get_nullable_string(buf, flexible)?;
        let acks = get_i16(buf)?;
        let timeout_ms = get_i32(buf)?;
        let topics = get_array(buf, flexible, topic_min_size(version), |b| {
            TopicProduceData::read(b, version)
        })?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            transactional_id,
            acks,
            timeout_ms,
            topics,
        })
    }
}

impl Request for ProduceRequest {
    const API_KEY: ApiKey = ApiKey::Produce;
    const VERSIONS: VersionRange = VersionRange::new(3, 12);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = ProduceResponse;
}

// ---------------------------------------------------------------------------------------
// Response
// ---------------------------------------------------------------------------------------

/// The Produce response (never sent for `acks = 0`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProduceResponse {
    /// One entry per topic of the request.
    pub topics: Vec<TopicProduceResponse>,
    /// How long the request was throttled, in milliseconds. On the wire it comes after
    /// `topics`.
    pub throttle_time_ms: i32,
    /// Endpoints of the new leaders named in partitions' `current_leader` (tagged field 0,
    /// v10+; sent with NOT_LEADER_OR_FOLLOWER). Written only when non-empty.
    pub node_endpoints: Vec<NodeEndpoint>,
}

/// One topic of a [`ProduceResponse`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicProduceResponse {
    /// The topic name.
    pub name: String,
    /// One entry per partition of the request.
    pub partitions: Vec<PartitionProduceResponse>,
}

/// The outcome for one partition of a [`ProduceRequest`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionProduceResponse {
    /// The partition index.
    pub index: i32,
    /// The error code, 0 if the batch was written.
    pub error_code: i16,
    /// The offset of the batch's first record (its record *i* has offset
    /// `base_offset + offsetDelta_i`).
    pub base_offset: i64,
    /// The broker's append time when the topic uses LogAppendTime, otherwise -1.
    pub log_append_time_ms: i64,
    /// The partition's log start offset (v5+; -1 below).
    pub log_start_offset: i64,
    /// The records that made the broker drop the batch (v8+; empty below).
    pub record_errors: Vec<BatchIndexAndErrorMessage>,
    /// A summary of why the batch was dropped (v8+; null below).
    pub error_message: Option<String>,
    /// The partition's current leader, as the broker knows it (tagged field 0, v10+).
    /// `None` when absent; written whenever `Some` (Kafka's brokers only send it when it is
    /// not the default -1/-1).
    pub current_leader: Option<LeaderIdAndEpoch>,
}

impl Default for PartitionProduceResponse {
    /// Partition 0, no error, offset 0, the schema's defaults elsewhere (-1, empty, null).
    fn default() -> Self {
        Self {
            index: 0,
            error_code: 0,
            base_offset: 0,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            error_message: None,
            current_leader: None,
        }
    }
}

/// A record that made the broker drop its batch (KIP-467).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchIndexAndErrorMessage {
    /// The record's index within the batch.
    pub batch_index: i32,
    /// Why the record was refused, if the broker says.
    pub batch_index_error_message: Option<String>,
}

/// A partition leader and its epoch (KIP-951).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LeaderIdAndEpoch {
    /// The leader's broker id, -1 if unknown.
    pub leader_id: i32,
    /// The leader epoch, -1 if unknown.
    pub leader_epoch: i32,
}

impl Default for LeaderIdAndEpoch {
    /// The schema's default: both unknown (-1).
    fn default() -> Self {
        Self {
            leader_id: -1,
            leader_epoch: -1,
        }
    }
}

/// A broker's address, for a leader named in `current_leader` (KIP-951).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodeEndpoint {
    /// The broker id.
    pub node_id: i32,
    /// The host name clients connect to.
    pub host: String,
    /// The port clients connect to.
    pub port: i32,
    /// The broker's rack, if assigned.
    pub rack: Option<String>,
}

impl ProduceResponse {
    /// Fails when a field that is not ignorable is set in a version that cannot carry it.
    fn check_fields(&self, version: i16) -> Result<(), EncodeError> {
        let carried = version >= LEADER_DISCOVERY;
        check_field(
            "node_endpoints",
            version,
            carried,
            self.node_endpoints.is_empty(),
        )?;
        let no_leader = self
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .all(|p| p.current_leader.is_none());
        check_field(
            "topics[].partitions[].current_leader",
            version,
            carried,
            no_leader,
        )
    }
}

impl TopicProduceResponse {
    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = ProduceRequest::is_flexible(version);
        put_string(buf, &self.name, flexible)?;
        put_array(buf, &self.partitions, flexible, |b, partition| {
            partition.write(b, version)
        })?;
        put_tags(buf, flexible);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let partition_min_size = PartitionProduceResponse::min_size(version);
        let (name, partitions) = read_topic(
            buf,
            version,
            partition_min_size,
            PartitionProduceResponse::read,
        )?;
        Ok(Self { name, partitions })
    }
}

impl PartitionProduceResponse {
    fn min_size(version: i16) -> usize {
        let flexible = ProduceRequest::is_flexible(version);
        let log_start_offset = if version >= LOG_START_OFFSET { 8 } else { 0 };
        let record_errors = if version >= RECORD_ERRORS {
            min_array_len(flexible) + min_string_len(flexible)
        } else {
            0
        };
        4 + 2 + 8 + 8 + log_start_offset + record_errors + tags_len(flexible)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = ProduceRequest::is_flexible(version);
        buf.put_i32(self.index);
        buf.put_i16(self.error_code);
        buf.put_i64(self.base_offset);
        buf.put_i64(self.log_append_time_ms);
        if version >= LOG_START_OFFSET {
            buf.put_i64(self.log_start_offset);
        }
        if version >= RECORD_ERRORS {
            put_array(buf, &self.record_errors, flexible, |b, error| {
                error.write(b, version)
            })?;
            put_nullable_string(buf, self.error_message.as_deref(), flexible)?;
        }
        if flexible {
            let current_leader = match &self.current_leader {
                Some(leader) if version >= LEADER_DISCOVERY => {
                    Some(tagged_field(TAG_CURRENT_LEADER, |b| {
                        leader.write(b);
                        Ok(())
                    })?)
                }
                _ => None,
            };
            put_tagged_fields(buf, current_leader.as_slice());
        }
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = ProduceRequest::is_flexible(version);
        let mut partition = Self {
            index: get_i32(buf)?,
            error_code: get_i16(buf)?,
            base_offset: get_i64(buf)?,
            log_append_time_ms: get_i64(buf)?,
            ..Self::default()
        };
        if version >= LOG_START_OFFSET {
            partition.log_start_offset = get_i64(buf)?;
        }
        if version >= RECORD_ERRORS {
            partition.record_errors = get_array(
                buf,
                flexible,
                BatchIndexAndErrorMessage::min_size(version),
                |b| BatchIndexAndErrorMessage::read(b, version),
            )?;
            partition.error_message = get_nullable_string(buf, flexible)?;
        }
        if flexible {
            let mut current_leader = None;
            get_tagged_fields(buf, |tag, data| {
                if version < LEADER_DISCOVERY || tag != TAG_CURRENT_LEADER {
                    return Ok(false);
                }
                current_leader = Some(read_tagged_field(data, LeaderIdAndEpoch::read)?);
                Ok(true)
            })?;
            partition.current_leader = current_leader;
        }
        Ok(partition)
    }
}

impl BatchIndexAndErrorMessage {
    fn min_size(version: i16) -> usize {
        let flexible = ProduceRequest::is_flexible(version);
        4 + min_string_len(flexible) + tags_len(flexible)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = ProduceRequest::is_flexible(version);
        buf.put_i32(self.batch_index);
        put_nullable_string(buf, self.batch_index_error_message.as_deref(), flexible)?;
        put_tags(buf, flexible);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = ProduceRequest::is_flexible(version);
        let batch_index = get_i32(buf)?;
        let batch_index_error_message = get_nullable_string(buf, flexible)?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            batch_index,
            batch_index_error_message,
        })
    }
}

impl LeaderIdAndEpoch {
    /// Writes the struct as the tagged field's payload (always flexible: it ends with its
    /// own empty TAG_BUFFER).
    fn write<B: BufMut>(&self, buf: &mut B) {
        buf.put_i32(self.leader_id);
        buf.put_i32(self.leader_epoch);
        put_tags(buf, true);
    }

    fn read(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let leader = Self {
            leader_id: get_i32(buf)?,
            leader_epoch: get_i32(buf)?,
        };
        skip_tags(buf, true)?;
        Ok(leader)
    }
}

impl NodeEndpoint {
    /// node_id, host (1-byte prefix at least), port, rack (1 byte at least), TAG_BUFFER.
    const MIN_SIZE: usize = 4 + 1 + 4 + 1 + 1;

    /// Writes one element of the tagged field (v10+, always flexible).
    fn write<B: BufMut>(&self, buf: &mut B) -> Result<(), EncodeError> {
        buf.put_i32(self.node_id);
        put_string(buf, &self.host, true)?;
        buf.put_i32(self.port);
        put_nullable_string(buf, self.rack.as_deref(), true)?;
        put_tags(buf, true);
        Ok(())
    }

    fn read(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let node = Self {
            node_id: get_i32(buf)?,
            host: get_string(buf, true)?,
            port: get_i32(buf)?,
            rack: get_nullable_string(buf, true)?,
        };
        skip_tags(buf, true)?;
        Ok(node)
    }
}

impl Encode for ProduceResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<ProduceRequest>(version)?;
        self.check_fields(version)?;
        // Build the tagged field first, so that an error leaves `buf` untouched.
        let node_endpoints = if version >= LEADER_DISCOVERY && !self.node_endpoints.is_empty() {
            Some(tagged_field(TAG_NODE_ENDPOINTS, |b| {
                put_array(b, &self.node_endpoints, true, |b, node| node.write(b))
            })?)
        } else {
            None
        };
        let flexible = ProduceRequest::is_flexible(version);
        put_array(buf, &self.topics, flexible, |b, topic| {
            topic.write(b, version)
        })?;
        buf.put_i32(self.throttle_time_ms);
        if flexible {
            put_tagged_fields(buf, node_endpoints.as_slice());
        }
        Ok(())
    }
}

impl Decode for ProduceResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<ProduceRequest>(version)?;
        let flexible = ProduceRequest::is_flexible(version);
        let topics = get_array(buf, flexible, topic_min_size(version), |b| {
            TopicProduceResponse::read(b, version)
        })?;
        let throttle_time_ms = get_i32(buf)?;
        let mut node_endpoints = Vec::new();
        if flexible {
            get_tagged_fields(buf, |tag, data| {
                if version < LEADER_DISCOVERY || tag != TAG_NODE_ENDPOINTS {
                    return Ok(false);
                }
                node_endpoints = read_tagged_field(data, |b| {
                    get_array(b, true, NodeEndpoint::MIN_SIZE, NodeEndpoint::read)
                })?;
                Ok(true)
            })?;
        }
        Ok(Self {
            topics,
            throttle_time_ms,
            node_endpoints,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::decode_exact;
    use crate::frame::encode_request;
    use crate::messages::test_util::{
        assert_encodes_to, assert_not_ignorable, assert_round_trip, assert_truncations_fail,
        encode, message_tests, name, over_the_wire, since, versions,
    };
    use proptest::collection::vec;
    use proptest::option;
    use proptest::prelude::*;

    fn concat(chunks: &[Bytes]) -> Vec<u8> {
        chunks.iter().flat_map(|c| c.iter().copied()).collect()
    }

    fn all_versions() -> impl Iterator<Item = i16> {
        ProduceRequest::VERSIONS.iter()
    }

    // -- hand-written vectors ------------------------------------------------------------

    #[test]
    fn v9_request_bytes() {
        let request = ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topics: vec![TopicProduceData {
                name: "t1".into(),
                partitions: vec![PartitionProduceData {
                    index: 0,
                    records: Some(Bytes::from_static(&[0xaa, 0xbb, 0xcc])),
                }],
            }],
        };
        let bytes: &[u8] = &[
            0x00, // transactional_id: COMPACT_NULLABLE_STRING null
            0xff, 0xff, // acks: -1
            0x00, 0x00, 0x75, 0x30, // timeout_ms: 30000
            0x02, // topic_data: COMPACT_ARRAY of 1 (N + 1)
            0x03, b't', b'1', // name: COMPACT_STRING of 2
            0x02, // partition_data: COMPACT_ARRAY of 1
            0x00, 0x00, 0x00, 0x00, // index: 0
            0x04, 0xaa, 0xbb, 0xcc, // records: COMPACT_RECORDS of 3
            0x00, // TAG_BUFFER of the partition
            0x00, // TAG_BUFFER of the topic
            0x00, // TAG_BUFFER of the request
        ];
        assert_encodes_to(&request, 9, bytes);
        assert_eq!(request.encoded_len(9), bytes.len());
    }

    #[test]
    fn v3_request_bytes_are_classic() {
        let request = ProduceRequest {
            transactional_id: Some("tx".into()),
            acks: 1,
            timeout_ms: 1,
            topics: vec![TopicProduceData {
                name: "t".into(),
                partitions: vec![PartitionProduceData {
                    index: 2,
                    records: None,
                }],
            }],
        };
        let bytes: &[u8] = &[
            0x00, 0x02, b't', b'x', // transactional_id: NULLABLE_STRING of 2
            0x00, 0x01, // acks: 1
            0x00, 0x00, 0x00, 0x01, // timeout_ms: 1
            0x00, 0x00, 0x00, 0x01, // topic_data: ARRAY of 1
            0x00, 0x01, b't', // name: STRING of 1
            0x00, 0x00, 0x00, 0x01, // partition_data: ARRAY of 1
            0x00, 0x00, 0x00, 0x02, // index: 2
            0xff, 0xff, 0xff, 0xff, // records: null (INT32 -1)
        ];
        assert_encodes_to(&request, 3, bytes);
        assert_eq!(request.encoded_len(3), bytes.len());
    }

    fn v10_response_with_new_leader() -> ProduceResponse {
        ProduceResponse {
            topics: vec![TopicProduceResponse {
                name: "t".into(),
                partitions: vec![PartitionProduceResponse {
                    index: 1,
                    error_code: 6, // NOT_LEADER_OR_FOLLOWER
                    base_offset: -1,
                    log_append_time_ms: -1,
                    log_start_offset: -1,
                    record_errors: vec![],
                    error_message: None,
                    current_leader: Some(LeaderIdAndEpoch {
                        leader_id: 2,
                        leader_epoch: 7,
                    }),
                }],
            }],
            throttle_time_ms: 0,
            node_endpoints: vec![NodeEndpoint {
                node_id: 2,
                host: "b2".into(),
                port: 9092,
                rack: None,
            }],
        }
    }

    #[test]
    fn v10_response_bytes_with_current_leader() {
        let response = v10_response_with_new_leader();
        let mut bytes = vec![
            0x02, // responses: COMPACT_ARRAY of 1
            0x02, b't', // name: COMPACT_STRING of 1
            0x02, // partition_responses: COMPACT_ARRAY of 1
            0x00, 0x00, 0x00, 0x01, // index: 1
            0x00, 0x06, // error_code: 6 NOT_LEADER_OR_FOLLOWER
        ];
        bytes.extend_from_slice(&[0xff; 8]); // base_offset: -1
        bytes.extend_from_slice(&[0xff; 8]); // log_append_time_ms: -1
        bytes.extend_from_slice(&[0xff; 8]); // log_start_offset: -1
        bytes.extend_from_slice(&[
            0x01, // record_errors: COMPACT_ARRAY of 0
            0x00, // error_message: null
            0x01, // TAG_BUFFER of the partition: 1 field
            0x00, // tag 0: current_leader
            0x09, // size: 9 bytes
            0x00, 0x00, 0x00, 0x02, // leader_id: 2
            0x00, 0x00, 0x00, 0x07, // leader_epoch: 7
            0x00, // TAG_BUFFER of current_leader
            0x00, // TAG_BUFFER of the topic
            0x00, 0x00, 0x00, 0x00, // throttle_time_ms: 0 (after the responses)
            0x01, // TAG_BUFFER of the response: 1 field
            0x00, // tag 0: node_endpoints
            0x0e, // size: 14 bytes
            0x02, // node_endpoints: COMPACT_ARRAY of 1
            0x00, 0x00, 0x00, 0x02, // node_id: 2
            0x03, b'b', b'2', // host: COMPACT_STRING of 2
            0x00, 0x00, 0x23, 0x84, // port: 9092
            0x00, // rack: null
            0x00, // TAG_BUFFER of the endpoint
        ]);
        assert_encodes_to(&response, 10, &bytes);
    }

    #[test]
    fn v3_response_leaves_out_later_fields() {
        let response = ProduceResponse {
            topics: vec![TopicProduceResponse {
                name: "t".into(),
                partitions: vec![PartitionProduceResponse {
                    base_offset: 5,
                    ..PartitionProduceResponse::default()
                }],
            }],
            throttle_time_ms: 3,
            node_endpoints: vec![],
        };
        let mut bytes = vec![
            0x00, 0x00, 0x00, 0x01, // responses: ARRAY of 1
            0x00, 0x01, b't', // name: STRING of 1
            0x00, 0x00, 0x00, 0x01, // partition_responses: ARRAY of 1
            0x00, 0x00, 0x00, 0x00, // index: 0
            0x00, 0x00, // error_code: 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // base_offset: 5
        ];
        bytes.extend_from_slice(&[0xff; 8]); // log_append_time_ms: -1
                                             // (no log_start_offset before v5, no record errors before v8, no tags before v9)
        bytes.extend_from_slice(&[0x00, 0x00, 0x00, 0x03]); // throttle_time_ms: 3
        assert_encodes_to(&response, 3, &bytes);
    }

    // -- golden frames from Kafka 4.1.1 and the Java client --------------------------------

    /// (request frame, response frame, version): frames without their size prefix.
    const GOLDEN: &[(&[u8], &[u8], i16)] = &[
        (
            include_bytes!("../../tests/golden/acks1-none/c2-02-produce-v12-request.bin"),
            include_bytes!("../../tests/golden/acks1-none/c2-03-produce-v12-response.bin"),
            12,
        ),
        (
            include_bytes!("../../tests/golden/idempotent-zstd/c2-02-produce-v12-request.bin"),
            include_bytes!("../../tests/golden/idempotent-zstd/c2-03-produce-v12-response.bin"),
            12,
        ),
        (
            include_bytes!(
                "../../tests/golden/client39-idempotent-none/c2-02-produce-v11-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/client39-idempotent-none/c2-03-produce-v11-response.bin"
            ),
            11,
        ),
    ];

    #[test]
    fn golden_frames_decode_and_encode_to_the_same_bytes() {
        for &(request_frame, response_frame, version) in GOLDEN {
            let mut frame = Bytes::from_static(request_frame);
            let header = RequestHeader::decode(&mut frame, 2).unwrap();
            assert_eq!(header.api_key, 0);
            assert_eq!(header.api_version, version);
            let request: ProduceRequest = decode_exact(frame.clone(), version).unwrap();
            assert_eq!(request.partition_count(), 1);
            assert!(request.topics[0].partitions[0].records.is_some());
            assert_eq!(
                encode(&request, version),
                frame.to_vec(),
                "request v{version}"
            );
            assert_eq!(request.encoded_len(version), frame.len());

            // The chunked frame, once the size prefix is dropped, is the Java client's frame.
            let chunks = request
                .encode_frame_chunks(
                    version,
                    header.correlation_id,
                    header.client_id.as_deref(),
                    0,
                )
                .unwrap();
            let whole = concat(&chunks);
            assert_eq!(&whole[4..], request_frame, "frame v{version}");
            assert_eq!(whole[..4], ((whole.len() - 4) as i32).to_be_bytes());

            let mut frame = Bytes::from_static(response_frame);
            let header = crate::header::ResponseHeader::decode(&mut frame, 1).unwrap();
            let response: ProduceResponse = decode_exact(frame.clone(), version).unwrap();
            assert_eq!(response.topics.len(), 1);
            assert_eq!(response.topics[0].name, request.topics[0].name);
            let partition = &response.topics[0].partitions[0];
            assert_eq!(partition.error_code, 0);
            // Java leaves the default -1/-1 leader out of the tag buffer.
            assert_eq!(partition.current_leader, None);
            assert_eq!(
                encode(&response, version),
                frame.to_vec(),
                "response v{version}"
            );
            assert!(header.tagged_fields.is_empty());
        }
    }

    // -- zero copy, encoded_len and the chunked frame ---------------------------------------

    #[test]
    fn decoded_records_share_the_input_buffer() {
        let request = many_partitions(3, 4, 50);
        let bytes = Bytes::from(encode(&request, 12));
        let decoded: ProduceRequest = decode_exact(bytes.clone(), 12).unwrap();
        let input = bytes.as_ptr() as usize..bytes.as_ptr() as usize + bytes.len();
        for partition in decoded.topics.iter().flat_map(|t| &t.partitions) {
            let records = partition.records.as_ref().unwrap();
            assert!(
                input.contains(&(records.as_ptr() as usize)),
                "records were copied"
            );
        }
    }

    #[test]
    fn chunks_keep_large_records_apart_and_inline_small_ones() {
        let big = Bytes::from(vec![7u8; 300]);
        let small = Bytes::from_static(b"tiny");
        let request = ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 100,
            topics: vec![TopicProduceData {
                name: "t".into(),
                partitions: vec![
                    PartitionProduceData {
                        index: 0,
                        records: Some(big.clone()),
                    },
                    PartitionProduceData {
                        index: 1,
                        records: Some(small.clone()),
                    },
                    PartitionProduceData {
                        index: 2,
                        records: None,
                    },
                ],
            }],
        };
        for version in all_versions() {
            let chunks = request
                .encode_frame_chunks(version, 9, Some("kiel"), 16)
                .unwrap();
            // frame start .. big's prefix | big | the rest, with `small` copied inline
            assert_eq!(chunks.len(), 3, "v{version}");
            assert_eq!(chunks[1].as_ptr(), big.as_ptr(), "big records not copied");
            assert!(chunks
                .iter()
                .all(|c| !c.is_empty() && c.as_ptr() != small.as_ptr()));
            let mut expected = BytesMut::new();
            encode_request(&request, version, 9, Some("kiel"), &mut expected).unwrap();
            assert_eq!(concat(&chunks), expected.to_vec(), "v{version}");
        }
    }

    #[test]
    fn chunked_encoding_refuses_unsupported_versions() {
        let request = many_partitions(1, 1, 1);
        for version in [2, 13] {
            assert!(matches!(
                request.encode_frame_chunks(version, 1, None, 0),
                Err(EncodeError::UnsupportedVersion {
                    api_key: 0,
                    version: v
                }) if v == version
            ));
        }
    }

    fn many_partitions(topics: usize, partitions: usize, record_len: usize) -> ProduceRequest {
        ProduceRequest {
            transactional_id: Some("transactional".into()),
            acks: -1,
            timeout_ms: 30_000,
            topics: (0..topics)
                .map(|t| TopicProduceData {
                    name: format!("topic-{t}"),
                    partitions: (0..partitions)
                        .map(|p| PartitionProduceData {
                            index: p as i32,
                            // Sizes vary so that compact length prefixes take 1 and 2 bytes.
                            records: Some(Bytes::from(vec![p as u8; record_len + 37 * p])),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn request_with_many_topics_and_partitions() {
        // Every prefix is checked on a medium request...
        let medium = many_partitions(8, 8, 3);
        for version in all_versions() {
            let bytes = assert_round_trip(&medium, version);
            assert_eq!(medium.encoded_len(version), bytes.len());
        }
        // ... and a large one (1000 partitions, about 0.5 MB) round trips, with a sample of
        // prefixes.
        let large = many_partitions(40, 25, 100);
        assert_eq!(large.partition_count(), 1000);
        for version in [3, 8, 9, 12] {
            let mut buf = BytesMut::with_capacity(large.encoded_len(version));
            large.encode(&mut buf, version).unwrap();
            assert_eq!(buf.len(), large.encoded_len(version), "v{version}");
            let bytes = buf.freeze();
            let decoded: ProduceRequest = decode_exact(bytes.clone(), version).unwrap();
            assert_eq!(decoded, large);
            for n in (0..bytes.len())
                .step_by(bytes.len() / 50)
                .chain([bytes.len() - 1])
            {
                assert!(decode_exact::<ProduceRequest>(bytes.slice(..n), version).is_err());
            }
        }
    }

    #[test]
    fn response_with_many_partitions_and_errors() {
        let response = ProduceResponse {
            topics: (0..6)
                .map(|t| TopicProduceResponse {
                    name: format!("t{t}"),
                    partitions: (0..6)
                        .map(|p| PartitionProduceResponse {
                            index: p,
                            error_code: if p % 2 == 0 { 0 } else { 87 }, // INVALID_RECORD
                            base_offset: i64::from(p) * 100,
                            log_start_offset: 0,
                            record_errors: (0..p)
                                .map(|i| BatchIndexAndErrorMessage {
                                    batch_index: i,
                                    batch_index_error_message: (i % 2 == 0)
                                        .then(|| format!("record {i} is bad")),
                                })
                                .collect(),
                            error_message: (p % 2 == 1).then(|| "batch dropped".into()),
                            ..PartitionProduceResponse::default()
                        })
                        .collect(),
                })
                .collect(),
            throttle_time_ms: 12,
            node_endpoints: vec![],
        };
        for version in 8..=12 {
            assert_round_trip(&response, version);
        }
    }

    // -- fields a version cannot carry ----------------------------------------------------

    #[test]
    fn leader_discovery_fields_fail_below_v10() {
        let versions = ProduceRequest::VERSIONS;
        let response = v10_response_with_new_leader();
        assert_not_ignorable(&response, versions, "node_endpoints", |v| {
            v >= LEADER_DISCOVERY
        });
        let leader_only = ProduceResponse {
            node_endpoints: vec![],
            ..response
        };
        assert_not_ignorable(
            &leader_only,
            versions,
            "topics[].partitions[].current_leader",
            |v| v >= LEADER_DISCOVERY,
        );
    }

    #[test]
    fn ignorable_response_fields_are_reset_to_their_defaults_in_old_versions() {
        let full = ProduceResponse {
            topics: vec![TopicProduceResponse {
                name: "t".into(),
                partitions: vec![PartitionProduceResponse {
                    index: 3,
                    error_code: 87,
                    base_offset: 10,
                    log_append_time_ms: 1_700_000_000_000,
                    log_start_offset: 4,
                    record_errors: vec![BatchIndexAndErrorMessage {
                        batch_index: 1,
                        batch_index_error_message: Some("bad".into()),
                    }],
                    error_message: Some("dropped".into()),
                    current_leader: None,
                }],
            }],
            throttle_time_ms: 5,
            node_endpoints: vec![],
        };
        let at = |version: i16| over_the_wire(&full, version);
        let mut expected = full.clone();
        expected.topics[0].partitions[0].record_errors = vec![];
        expected.topics[0].partitions[0].error_message = None;
        assert_eq!(at(7), expected);
        assert_eq!(at(5), expected);
        expected.topics[0].partitions[0].log_start_offset = -1;
        assert_eq!(at(4), expected);
        assert_eq!(at(3), expected);
        assert_eq!(at(8), full);
    }

    // -- tagged fields ----------------------------------------------------------------------

    #[test]
    fn unknown_tagged_fields_are_skipped() {
        // v12 request whose partition, topic and body each carry an unknown tagged field.
        let bytes: &[u8] = &[
            0x00, // transactional_id: null
            0x00, 0x01, // acks: 1
            0x00, 0x00, 0x00, 0x0a, // timeout_ms: 10
            0x02, // topic_data: 1
            0x02, b't', // name
            0x02, // partition_data: 1
            0x00, 0x00, 0x00, 0x04, // index: 4
            0x01, // records: empty
            0x01, 0x05, 0x01, 0xee, // partition TAG_BUFFER: tag 5, 1 byte
            0x01, 0x00, 0x00, // topic TAG_BUFFER: tag 0, empty
            0x02, 0x01, 0x00, 0x09, 0x02, 0x01, 0x02, // body: tags 1 and 9
        ];
        let request: ProduceRequest = decode_exact(Bytes::from_static(bytes), 12).unwrap();
        assert_eq!(
            request,
            ProduceRequest {
                transactional_id: None,
                acks: 1,
                timeout_ms: 10,
                topics: vec![TopicProduceData {
                    name: "t".into(),
                    partitions: vec![PartitionProduceData {
                        index: 4,
                        records: Some(Bytes::new()),
                    }],
                }],
            }
        );

        // v10 response: node_endpoints (tag 0) followed by an unknown tag 3.
        let mut bytes = encode(&v10_response_with_new_leader(), 10);
        let tags_at = bytes.len() - 17; // the body's TAG_BUFFER: count, tag, size, 14 bytes
        assert_eq!(bytes[tags_at..tags_at + 3], [0x01, 0x00, 0x0e]);
        bytes[tags_at] = 0x02;
        bytes.extend_from_slice(&[0x03, 0x02, 0xab, 0xcd]);
        let response: ProduceResponse = decode_exact(Bytes::from(bytes), 10).unwrap();
        assert_eq!(response, v10_response_with_new_leader());
    }

    #[test]
    fn tag_zero_is_unknown_before_v10() {
        // A v9 partition response whose TAG_BUFFER holds tag 0: not current_leader yet.
        let mut bytes = vec![0x02, 0x02, b't', 0x02];
        bytes.extend_from_slice(&[0; 4 + 2 + 8 + 8 + 8]);
        bytes.extend_from_slice(&[0x01, 0x00]); // record_errors: [], error_message: null
        bytes.extend_from_slice(&[0x01, 0x00, 0x09, 0, 0, 0, 2, 0, 0, 0, 7, 0x00]);
        bytes.extend_from_slice(&[0x00, 0, 0, 0, 0, 0x00]); // topic tags, throttle, tags
        let v9: ProduceResponse = decode_exact(Bytes::from(bytes.clone()), 9).unwrap();
        assert_eq!(v9.topics[0].partitions[0].current_leader, None);
        let v10: ProduceResponse = decode_exact(Bytes::from(bytes), 10).unwrap();
        assert_eq!(
            v10.topics[0].partitions[0].current_leader,
            Some(LeaderIdAndEpoch {
                leader_id: 2,
                leader_epoch: 7
            })
        );
    }

    #[test]
    fn known_tagged_fields_must_be_used_up_exactly() {
        let good = encode(&v10_response_with_new_leader(), 10);
        // current_leader announced as 10 bytes with one extra byte inside.
        let at = good.iter().position(|&b| b == 0x09).unwrap();
        let mut long = good[..at].to_vec();
        long.push(0x0a);
        long.extend_from_slice(&good[at + 1..at + 10]);
        long.push(0x00);
        long.extend_from_slice(&good[at + 10..]);
        assert_eq!(
            decode_exact::<ProduceResponse>(Bytes::from(long), 10),
            Err(DecodeError::TrailingBytes(1))
        );
        // current_leader announced as 8 bytes: its own TAG_BUFFER is cut off.
        let mut short = good.clone();
        short[at] = 0x08;
        assert!(decode_exact::<ProduceResponse>(Bytes::from(short), 10).is_err());
    }

    // -- bounds and versions ------------------------------------------------------------------

    #[test]
    fn huge_counts_and_lengths_are_rejected_before_allocating() {
        // v12 response: responses COMPACT_ARRAY claiming 2^28 - 1 elements.
        let bytes = Bytes::from_static(&[0xff, 0xff, 0xff, 0x7f, 0x00]);
        assert!(matches!(
            decode_exact::<ProduceResponse>(bytes, 12),
            Err(DecodeError::InvalidLength { .. })
        ));
        // v3 request: records claiming 2 GB in a few bytes.
        let mut bytes = vec![0xff, 0xff, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, b't'];
        bytes.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xfe, 1, 2]);
        assert!(matches!(
            decode_exact::<ProduceRequest>(Bytes::from(bytes), 3),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn acks_zero_expects_no_response() {
        let mut request = many_partitions(1, 1, 1);
        for (acks, expected) in [(0, false), (1, true), (-1, true)] {
            request.acks = acks;
            assert_eq!(request.expects_response(), expected);
        }
    }

    // -- property tests ------------------------------------------------------------------------

    fn records() -> impl Strategy<Value = Option<Bytes>> {
        option::of(vec(any::<u8>(), 0..150).prop_map(Bytes::from))
    }

    fn request() -> impl Strategy<Value = ProduceRequest> {
        let partition = (any::<i32>(), records())
            .prop_map(|(index, records)| PartitionProduceData { index, records });
        let topic = (name(), vec(partition, 0..4))
            .prop_map(|(name, partitions)| TopicProduceData { name, partitions });
        (
            option::of(name()),
            any::<i16>(),
            any::<i32>(),
            vec(topic, 0..4),
        )
            .prop_map(
                |(transactional_id, acks, timeout_ms, topics)| ProduceRequest {
                    transactional_id,
                    acks,
                    timeout_ms,
                    topics,
                },
            )
    }

    fn partition_response(version: i16) -> impl Strategy<Value = PartitionProduceResponse> {
        let record_error =
            (any::<i32>(), option::of(name())).prop_map(|(i, message)| BatchIndexAndErrorMessage {
                batch_index: i,
                batch_index_error_message: message,
            });
        let leader =
            (any::<i32>(), any::<i32>()).prop_map(|(leader_id, leader_epoch)| LeaderIdAndEpoch {
                leader_id,
                leader_epoch,
            });
        (
            (any::<i32>(), any::<i16>(), any::<i64>(), any::<i64>()),
            since(version >= LOG_START_OFFSET, any::<i64>(), -1),
            since(version >= RECORD_ERRORS, vec(record_error, 0..3), vec![]),
            since(version >= RECORD_ERRORS, option::of(name()), None),
            since(version >= LEADER_DISCOVERY, option::of(leader), None),
        )
            .prop_map(
                |(
                    (index, error_code, base_offset, log_append_time_ms),
                    log_start_offset,
                    record_errors,
                    error_message,
                    current_leader,
                )| PartitionProduceResponse {
                    index,
                    error_code,
                    base_offset,
                    log_append_time_ms,
                    log_start_offset,
                    record_errors,
                    error_message,
                    current_leader,
                },
            )
    }

    fn response(version: i16) -> impl Strategy<Value = ProduceResponse> {
        let topic = (name(), vec(partition_response(version), 0..4))
            .prop_map(|(name, partitions)| TopicProduceResponse { name, partitions });
        let node = (any::<i32>(), name(), any::<i32>(), option::of(name())).prop_map(
            |(node_id, host, port, rack)| NodeEndpoint {
                node_id,
                host,
                port,
                rack,
            },
        );
        (
            vec(topic, 0..4),
            any::<i32>(),
            since(version >= LEADER_DISCOVERY, vec(node, 0..3), vec![]),
        )
            .prop_map(
                |(topics, throttle_time_ms, node_endpoints)| ProduceResponse {
                    topics,
                    throttle_time_ms,
                    node_endpoints,
                },
            )
    }

    message_tests! {
        request: ProduceRequest = |_| request(),
        response: ProduceResponse = response,
        random_input_len: 160,
    }

    proptest! {
        #[test]
        fn encoded_len_is_exact(version in versions(ProduceRequest::VERSIONS), request in request()) {
            prop_assert_eq!(request.encoded_len(version), encode(&request, version).len());
        }

        #[test]
        fn chunks_concatenate_to_the_frame(
            version in versions(ProduceRequest::VERSIONS),
            request in request(),
            inline_below in 0usize..100,
            correlation_id: i32,
            client_id in option::of(name()),
        ) {
            let chunks = request
                .encode_frame_chunks(version, correlation_id, client_id.as_deref(), inline_below)
                .unwrap();
            let mut expected = BytesMut::new();
            encode_request(&request, version, correlation_id, client_id.as_deref(), &mut expected)
                .unwrap();
            prop_assert_eq!(concat(&chunks), expected.to_vec());
            // Every records blob at or above the threshold is a chunk of its own, uncopied.
            let kept_apart = request
                .topics
                .iter()
                .flat_map(|t| &t.partitions)
                .filter_map(|p| p.records.as_ref())
                .filter(|r| !r.is_empty() && r.len() >= inline_below)
                .count();
            let shared = chunks
                .iter()
                .filter(|c| {
                    request
                        .topics
                        .iter()
                        .flat_map(|t| &t.partitions)
                        .filter_map(|p| p.records.as_ref())
                        .any(|r| !r.is_empty() && r.as_ptr() == c.as_ptr())
                })
                .count();
            prop_assert_eq!(shared, kept_apart);
            prop_assert!(chunks.iter().all(|c| !c.is_empty()));
        }
    }

    #[test]
    fn truncated_golden_frames_fail() {
        for &(request_frame, response_frame, version) in GOLDEN {
            let mut frame = Bytes::from_static(request_frame);
            RequestHeader::decode(&mut frame, 2).unwrap();
            assert_truncations_fail::<ProduceRequest>(&frame, version);
            let mut frame = Bytes::from_static(response_frame);
            crate::header::ResponseHeader::decode(&mut frame, 1).unwrap();
            assert_truncations_fail::<ProduceResponse>(&frame, version);
        }
    }
}
