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
use crate::primitives::{
    bytes_len, expect_empty, get_array, get_i16, get_i32, get_i64, get_nullable_bytes,
    get_nullable_string, get_string, get_tagged_fields, get_unknown_tagged_fields,
    length_prefix_len, put_array, put_array_len, put_empty_tagged_fields, put_nullable_string,
    put_string, put_tagged_fields, put_unsigned_varint, string_len, RawTaggedField,
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

/// The largest records blob a length prefix can announce (as for any byte string).
const MAX_RECORDS_LEN: usize = i32::MAX as usize - 1;

fn is_flexible(version: i16) -> bool {
    version >= FIRST_FLEXIBLE
}

/// Smallest wire size of a length prefix: one varint byte when flexible, otherwise
/// `classic` bytes.
fn prefix(version: i16, classic: usize) -> usize {
    if is_flexible(version) {
        1
    } else {
        classic
    }
}

/// Size of an empty per-struct tag buffer: one byte when flexible.
fn tags(version: i16) -> usize {
    usize::from(is_flexible(version))
}

fn skip_tags(buf: &mut Bytes, version: i16) -> Result<(), DecodeError> {
    if is_flexible(version) {
        get_unknown_tagged_fields(buf)?;
    }
    Ok(())
}

fn put_tags<B: BufMut>(buf: &mut B, version: i16) {
    if is_flexible(version) {
        put_empty_tagged_fields(buf);
    }
}

/// Writes the length prefix of a `RECORDS` field (`NULLABLE_BYTES`, or `COMPACT_RECORDS`
/// when flexible), leaving the payload to the caller.
fn put_records_len<B: BufMut>(
    buf: &mut B,
    len: Option<usize>,
    flexible: bool,
) -> Result<(), EncodeError> {
    match len {
        Some(n) if n > MAX_RECORDS_LEN => Err(EncodeError::TooLong {
            what: "records",
            length: n,
            max: MAX_RECORDS_LEN,
        }),
        // Both casts are in range: n <= i32::MAX - 1.
        Some(n) if flexible => {
            put_unsigned_varint(buf, n as u32 + 1);
            Ok(())
        }
        Some(n) => {
            buf.put_i32(n as i32);
            Ok(())
        }
        None if flexible => {
            put_unsigned_varint(buf, 0);
            Ok(())
        }
        None => {
            buf.put_i32(-1);
            Ok(())
        }
    }
}

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
        let flexible = is_flexible(version);
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
            + tags(version)
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
        let flexible = is_flexible(version);
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
                put_records_len(buf, records.map(Bytes::len), flexible)?;
                if let Some(records) = records {
                    put_records(buf, records);
                }
                put_tags(buf, version);
            }
            put_tags(buf, version);
        }
        put_tags(buf, version);
        Ok(())
    }
}

impl TopicProduceData {
    fn min_size(version: i16) -> usize {
        prefix(version, 2) + prefix(version, 4) + tags(version)
    }

    fn encoded_len(&self, version: i16) -> usize {
        let flexible = is_flexible(version);
        let partitions: usize = self
            .partitions
            .iter()
            .map(|partition| partition.encoded_len(version))
            .sum();
        string_len(Some(&self.name), flexible)
            + length_prefix_len(Some(self.partitions.len()), flexible, false)
            + partitions
            + tags(version)
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = is_flexible(version);
        let name = get_string(buf, flexible)?;
        let partitions = get_array(
            buf,
            flexible,
            PartitionProduceData::min_size(version),
            |b| PartitionProduceData::read(b, version),
        )?;
        skip_tags(buf, version)?;
        Ok(Self { name, partitions })
    }
}

impl PartitionProduceData {
    fn min_size(version: i16) -> usize {
        4 + prefix(version, 4) + tags(version)
    }

    fn encoded_len(&self, version: i16) -> usize {
        4 + bytes_len(self.records.as_ref().map(Bytes::len), is_flexible(version)) + tags(version)
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let index = get_i32(buf)?;
        // Zero-copy: the records share `buf`'s allocation.
        let records = get_nullable_bytes(buf, is_flexible(version))?;
        skip_tags(buf, version)?;
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
        let flexible = is_flexible(version);
        let transactional_id = get_nullable_string(buf, flexible)?;
        let acks = get_i16(buf)?;
        let timeout_ms = get_i32(buf)?;
        let topics = get_array(buf, flexible, TopicProduceData::min_size(version), |b| {
            TopicProduceData::read(b, version)
        })?;
        skip_tags(buf, version)?;
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
        if version >= LEADER_DISCOVERY {
            return Ok(());
        }
        if !self.node_endpoints.is_empty() {
            return Err(EncodeError::FieldNotAvailable {
                field: "node_endpoints",
                version,
            });
        }
        let has_leader = self
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .any(|p| p.current_leader.is_some());
        if has_leader {
            return Err(EncodeError::FieldNotAvailable {
                field: "topics[].partitions[].current_leader",
                version,
            });
        }
        Ok(())
    }

    fn node_endpoints_bytes(&self) -> Result<Bytes, EncodeError> {
        let mut data = BytesMut::new();
        put_array(&mut data, &self.node_endpoints, true, |b, node| {
            node.write(b)
        })?;
        Ok(data.freeze())
    }
}

impl TopicProduceResponse {
    fn min_size(version: i16) -> usize {
        prefix(version, 2) + prefix(version, 4) + tags(version)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = is_flexible(version);
        put_string(buf, &self.name, flexible)?;
        put_array(buf, &self.partitions, flexible, |b, partition| {
            partition.write(b, version)
        })?;
        put_tags(buf, version);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = is_flexible(version);
        let name = get_string(buf, flexible)?;
        let partitions = get_array(
            buf,
            flexible,
            PartitionProduceResponse::min_size(version),
            |b| PartitionProduceResponse::read(b, version),
        )?;
        skip_tags(buf, version)?;
        Ok(Self { name, partitions })
    }
}

impl PartitionProduceResponse {
    fn min_size(version: i16) -> usize {
        let log_start_offset = if version >= LOG_START_OFFSET { 8 } else { 0 };
        let record_errors = if version >= RECORD_ERRORS {
            prefix(version, 4) + prefix(version, 2)
        } else {
            0
        };
        4 + 2 + 8 + 8 + log_start_offset + record_errors + tags(version)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        let flexible = is_flexible(version);
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
            match &self.current_leader {
                Some(leader) if version >= LEADER_DISCOVERY => {
                    let mut data = BytesMut::with_capacity(9);
                    leader.write(&mut data);
                    put_tagged_fields(
                        buf,
                        &[RawTaggedField {
                            tag: TAG_CURRENT_LEADER,
                            data: data.freeze(),
                        }],
                    );
                }
                _ => put_empty_tagged_fields(buf),
            }
        }
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let flexible = is_flexible(version);
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
            get_tagged_fields(buf, |tag, mut data| {
                if version < LEADER_DISCOVERY || tag != TAG_CURRENT_LEADER {
                    return Ok(false);
                }
                current_leader = Some(LeaderIdAndEpoch::read(&mut data)?);
                expect_empty(&data)?;
                Ok(true)
            })?;
            partition.current_leader = current_leader;
        }
        Ok(partition)
    }
}

impl BatchIndexAndErrorMessage {
    fn min_size(version: i16) -> usize {
        4 + prefix(version, 2) + tags(version)
    }

    fn write<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        buf.put_i32(self.batch_index);
        put_nullable_string(
            buf,
            self.batch_index_error_message.as_deref(),
            is_flexible(version),
        )?;
        put_tags(buf, version);
        Ok(())
    }

    fn read(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        let batch_index = get_i32(buf)?;
        let batch_index_error_message = get_nullable_string(buf, is_flexible(version))?;
        skip_tags(buf, version)?;
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
        put_empty_tagged_fields(buf);
    }

    fn read(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let leader = Self {
            leader_id: get_i32(buf)?,
            leader_epoch: get_i32(buf)?,
        };
        get_unknown_tagged_fields(buf)?;
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
        put_empty_tagged_fields(buf);
        Ok(())
    }

    fn read(buf: &mut Bytes) -> Result<Self, DecodeError> {
        let node = Self {
            node_id: get_i32(buf)?,
            host: get_string(buf, true)?,
            port: get_i32(buf)?,
            rack: get_nullable_string(buf, true)?,
        };
        get_unknown_tagged_fields(buf)?;
        Ok(node)
    }
}

impl Encode for ProduceResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<ProduceRequest>(version)?;
        self.check_fields(version)?;
        // Build the tagged field first, so that an error leaves `buf` untouched.
        let node_endpoints = if version >= LEADER_DISCOVERY && !self.node_endpoints.is_empty() {
            Some(self.node_endpoints_bytes()?)
        } else {
            None
        };
        let flexible = is_flexible(version);
        put_array(buf, &self.topics, flexible, |b, topic| {
            topic.write(b, version)
        })?;
        buf.put_i32(self.throttle_time_ms);
        if flexible {
            match node_endpoints {
                Some(data) => put_tagged_fields(
                    buf,
                    &[RawTaggedField {
                        tag: TAG_NODE_ENDPOINTS,
                        data,
                    }],
                ),
                None => put_empty_tagged_fields(buf),
            }
        }
        Ok(())
    }
}

impl Decode for ProduceResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<ProduceRequest>(version)?;
        let flexible = is_flexible(version);
        let topics = get_array(
            buf,
            flexible,
            TopicProduceResponse::min_size(version),
            |b| TopicProduceResponse::read(b, version),
        )?;
        let throttle_time_ms = get_i32(buf)?;
        let mut node_endpoints = Vec::new();
        if flexible {
            get_tagged_fields(buf, |tag, mut data| {
                if version < LEADER_DISCOVERY || tag != TAG_NODE_ENDPOINTS {
                    return Ok(false);
                }
                node_endpoints = get_array(&mut data, true, NodeEndpoint::MIN_SIZE, |b| {
                    NodeEndpoint::read(b)
                })?;
                expect_empty(&data)?;
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
