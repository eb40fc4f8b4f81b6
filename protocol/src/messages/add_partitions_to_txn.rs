//! AddPartitionsToTxn (API key 24), versions 0 to 5: under the classic transaction protocol
//! (transaction version 1) a transactional producer adds each partition to its transaction
//! before its first Produce to it. Under transaction version 2 (KIP-890 part 2) the first
//! Produce adds it implicitly and clients no longer send this; versions 4 and 5, batched by
//! transaction, are what brokers send each other to verify.
//!
//! Wire layout (flexible from v3):
//!
//! ```text
//! request   v0-3: transactional_id STRING, producer_id INT64, producer_epoch INT16,
//!                 topics [name STRING, partitions [INT32], TAG_BUFFER (v3)]
//!           v4+:  transactions [transactional_id STRING, producer_id INT64,
//!                               producer_epoch INT16, verify_only BOOLEAN,
//!                               topics [name STRING, partitions [INT32], TAG_BUFFER],
//!                               TAG_BUFFER]
//!           TAG_BUFFER (v3+)
//! response  throttle_time_ms INT32, error_code INT16 (v4+),
//!           v4+:  results_by_transaction [transactional_id STRING, topic_results [TOPIC], TAG_BUFFER]
//!           v0-3: results_by_topic [TOPIC]
//!           TAG_BUFFER (v3+)
//!           TOPIC = name STRING, results_by_partition [partition_index INT32,
//!                   partition_error_code INT16, TAG_BUFFER (v3+)], TAG_BUFFER (v3+)
//! ```
//!
//! v1 is the same as v0; v2 and v5 only allow new error codes (PRODUCER_FENCED,
//! TRANSACTION_ABORTABLE).
//!
//! # References
//! - `AddPartitionsToTxnRequest.json`, `AddPartitionsToTxnResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-98 (transactions), KIP-890 (server-side verification, transaction version 2)

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{
    check_field, min_array_len, min_string_len, put_tags, skip_tags, tags_len,
};
use crate::primitives::{
    get_array, get_bool, get_i16, get_i32, get_i32_array, get_i64, get_string, put_array, put_bool,
    put_i32_array, put_string,
};

/// The first flexible version of AddPartitionsToTxn.
const FIRST_FLEXIBLE: i16 = 3;

/// The first version batched by transaction (what brokers send).
const BATCHED: i16 = 4;

/// The newest version a client sends: the last one with a single transaction.
pub const NEWEST_CLIENT_VERSION: i16 = 3;

/// Partitions of one topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopic {
    /// The topic.
    pub name: String,
    /// The partitions to add.
    pub partitions: Vec<i32>,
}

/// One transaction's partitions (v4+).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTransaction {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// Only check that the partitions are in the transaction, do not add them.
    pub verify_only: bool,
    /// The partitions, by topic.
    pub topics: Vec<AddPartitionsToTxnTopic>,
}

/// The AddPartitionsToTxn request: the single transaction of v0-3, or the list of v4+.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnRequest {
    /// The transactional id (v0-3).
    pub transactional_id: String,
    /// The producer id (v0-3).
    pub producer_id: i64,
    /// The producer's current epoch (v0-3).
    pub producer_epoch: i16,
    /// The partitions to add, by topic (v0-3).
    pub topics: Vec<AddPartitionsToTxnTopic>,
    /// The transactions (v4+).
    pub transactions: Vec<AddPartitionsToTxnTransaction>,
}

fn put_topics<B: BufMut>(
    buf: &mut B,
    topics: &[AddPartitionsToTxnTopic],
    flexible: bool,
) -> Result<(), EncodeError> {
    put_array(buf, topics, flexible, |b, topic| {
        put_string(b, &topic.name, flexible)?;
        put_i32_array(b, &topic.partitions, flexible)?;
        put_tags(b, flexible);
        Ok(())
    })
}

fn get_topics(
    buf: &mut Bytes,
    flexible: bool,
) -> Result<Vec<AddPartitionsToTxnTopic>, DecodeError> {
    let topic_len = min_string_len(flexible) + min_array_len(flexible) + tags_len(flexible);
    get_array(buf, flexible, topic_len, |b| {
        let name = get_string(b, flexible)?;
        let partitions = get_i32_array(b, flexible)?;
        skip_tags(b, flexible)?;
        Ok(AddPartitionsToTxnTopic { name, partitions })
    })
}

impl Encode for AddPartitionsToTxnRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let batched = version >= BATCHED;
        check_field(
            "transactional_id",
            version,
            !batched,
            self.transactional_id.is_empty(),
        )?;
        check_field("producer_id", version, !batched, self.producer_id == 0)?;
        check_field(
            "producer_epoch",
            version,
            !batched,
            self.producer_epoch == 0,
        )?;
        check_field("topics", version, !batched, self.topics.is_empty())?;
        check_field(
            "transactions",
            version,
            batched,
            self.transactions.is_empty(),
        )?;
        let flexible = Self::is_flexible(version);
        if batched {
            put_array(buf, &self.transactions, flexible, |b, t| {
                put_string(b, &t.transactional_id, flexible)?;
                b.put_i64(t.producer_id);
                b.put_i16(t.producer_epoch);
                put_bool(b, t.verify_only);
                put_topics(b, &t.topics, flexible)?;
                put_tags(b, flexible);
                Ok(())
            })?;
        } else {
            put_string(buf, &self.transactional_id, flexible)?;
            buf.put_i64(self.producer_id);
            buf.put_i16(self.producer_epoch);
            put_topics(buf, &self.topics, flexible)?;
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for AddPartitionsToTxnRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let mut request = Self::default();
        if version >= BATCHED {
            // transactional_id, producer_id, producer_epoch, verify_only, topics, tags.
            let transaction_len =
                min_string_len(flexible) + 8 + 2 + 1 + min_array_len(flexible) + tags_len(flexible);
            request.transactions = get_array(buf, flexible, transaction_len, |b| {
                let transaction = AddPartitionsToTxnTransaction {
                    transactional_id: get_string(b, flexible)?,
                    producer_id: get_i64(b)?,
                    producer_epoch: get_i16(b)?,
                    verify_only: get_bool(b)?,
                    topics: get_topics(b, flexible)?,
                };
                skip_tags(b, flexible)?;
                Ok(transaction)
            })?;
        } else {
            request.transactional_id = get_string(buf, flexible)?;
            request.producer_id = get_i64(buf)?;
            request.producer_epoch = get_i16(buf)?;
            request.topics = get_topics(buf, flexible)?;
        }
        skip_tags(buf, flexible)?;
        Ok(request)
    }
}

impl Request for AddPartitionsToTxnRequest {
    const API_KEY: ApiKey = ApiKey::AddPartitionsToTxn;
    const VERSIONS: VersionRange = VersionRange::new(0, 5);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = AddPartitionsToTxnResponse;
}

/// One partition's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnPartitionResult {
    /// The partition.
    pub partition_index: i32,
    /// The error code, 0 when the partition is in the transaction.
    pub partition_error_code: i16,
}

/// One topic's results.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnTopicResult {
    /// The topic.
    pub name: String,
    /// Each partition's result.
    pub results_by_partition: Vec<AddPartitionsToTxnPartitionResult>,
}

/// One transaction's results (v4+).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnResult {
    /// The transactional id.
    pub transactional_id: String,
    /// Each topic's results.
    pub topic_results: Vec<AddPartitionsToTxnTopicResult>,
}

/// The AddPartitionsToTxn response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddPartitionsToTxnResponse {
    /// How long the request was throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// The top-level error code (v4+, ignorable).
    pub error_code: i16,
    /// The results by transaction (v4+).
    pub results_by_transaction: Vec<AddPartitionsToTxnResult>,
    /// The results by topic (v0-3).
    pub results_by_topic: Vec<AddPartitionsToTxnTopicResult>,
}

fn put_topic_results<B: BufMut>(
    buf: &mut B,
    topics: &[AddPartitionsToTxnTopicResult],
    flexible: bool,
) -> Result<(), EncodeError> {
    put_array(buf, topics, flexible, |b, topic| {
        put_string(b, &topic.name, flexible)?;
        put_array(b, &topic.results_by_partition, flexible, |b, p| {
            b.put_i32(p.partition_index);
            b.put_i16(p.partition_error_code);
            put_tags(b, flexible);
            Ok(())
        })?;
        put_tags(b, flexible);
        Ok(())
    })
}

fn get_topic_results(
    buf: &mut Bytes,
    flexible: bool,
) -> Result<Vec<AddPartitionsToTxnTopicResult>, DecodeError> {
    let topic_len = min_string_len(flexible) + min_array_len(flexible) + tags_len(flexible);
    get_array(buf, flexible, topic_len, |b| {
        let name = get_string(b, flexible)?;
        let results_by_partition = get_array(b, flexible, 4 + 2 + tags_len(flexible), |b| {
            let result = AddPartitionsToTxnPartitionResult {
                partition_index: get_i32(b)?,
                partition_error_code: get_i16(b)?,
            };
            skip_tags(b, flexible)?;
            Ok(result)
        })?;
        skip_tags(b, flexible)?;
        Ok(AddPartitionsToTxnTopicResult {
            name,
            results_by_partition,
        })
    })
}

impl Encode for AddPartitionsToTxnResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<AddPartitionsToTxnRequest>(version)?;
        let batched = version >= BATCHED;
        check_field(
            "results_by_transaction",
            version,
            batched,
            self.results_by_transaction.is_empty(),
        )?;
        check_field(
            "results_by_topic",
            version,
            !batched,
            self.results_by_topic.is_empty(),
        )?;
        let flexible = AddPartitionsToTxnRequest::is_flexible(version);
        buf.put_i32(self.throttle_time_ms);
        if batched {
            buf.put_i16(self.error_code);
            put_array(buf, &self.results_by_transaction, flexible, |b, t| {
                put_string(b, &t.transactional_id, flexible)?;
                put_topic_results(b, &t.topic_results, flexible)?;
                put_tags(b, flexible);
                Ok(())
            })?;
        } else {
            put_topic_results(buf, &self.results_by_topic, flexible)?;
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for AddPartitionsToTxnResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<AddPartitionsToTxnRequest>(version)?;
        let flexible = AddPartitionsToTxnRequest::is_flexible(version);
        let mut response = Self {
            throttle_time_ms: get_i32(buf)?,
            ..Self::default()
        };
        if version >= BATCHED {
            response.error_code = get_i16(buf)?;
            let result_len =
                min_string_len(flexible) + min_array_len(flexible) + tags_len(flexible);
            response.results_by_transaction = get_array(buf, flexible, result_len, |b| {
                let result = AddPartitionsToTxnResult {
                    transactional_id: get_string(b, flexible)?,
                    topic_results: get_topic_results(b, flexible)?,
                };
                skip_tags(b, flexible)?;
                Ok(result)
            })?;
        } else {
            response.results_by_topic = get_topic_results(buf, flexible)?;
        }
        skip_tags(buf, flexible)?;
        Ok(response)
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

    fn classic() -> AddPartitionsToTxnRequest {
        AddPartitionsToTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 7,
            producer_epoch: 1,
            topics: vec![AddPartitionsToTxnTopic {
                name: "t".into(),
                partitions: vec![0, 2],
            }],
            transactions: Vec::new(),
        }
    }

    #[test]
    fn v3_bytes_written_from_the_schema() {
        assert_encodes_to(
            &classic(),
            3,
            &[
                0x03, b't', b'x', // transactional_id
                0, 0, 0, 0, 0, 0, 0, 7, // producer_id
                0, 1,    // producer_epoch
                0x02, // topics: 1
                0x02, b't', // name
                0x03, 0, 0, 0, 0, 0, 0, 0, 2, // partitions: [0, 2]
                0, // topic tags
                0, // request tags
            ],
        );
        let response = AddPartitionsToTxnResponse {
            results_by_topic: vec![AddPartitionsToTxnTopicResult {
                name: "t".into(),
                results_by_partition: vec![AddPartitionsToTxnPartitionResult {
                    partition_index: 2,
                    partition_error_code: 51, // CONCURRENT_TRANSACTIONS
                }],
            }],
            ..AddPartitionsToTxnResponse::default()
        };
        assert_encodes_to(
            &response,
            3,
            &[
                0, 0, 0, 0, 0x02, 0x02, b't', 0x02, 0, 0, 0, 2, 0, 51, 0, 0, 0,
            ],
        );
    }

    #[test]
    fn the_single_transaction_and_the_batched_list_belong_to_their_versions() {
        assert_not_ignorable(
            &classic(),
            AddPartitionsToTxnRequest::VERSIONS,
            "transactional_id",
            |v| v < BATCHED,
        );
        let batched = AddPartitionsToTxnRequest {
            transactions: vec![AddPartitionsToTxnTransaction {
                transactional_id: "tx".into(),
                producer_id: 7,
                producer_epoch: 1,
                verify_only: true,
                topics: classic().topics,
            }],
            ..AddPartitionsToTxnRequest::default()
        };
        assert_not_ignorable(
            &batched,
            AddPartitionsToTxnRequest::VERSIONS,
            "transactions",
            |v| v >= BATCHED,
        );
        let top_level = AddPartitionsToTxnResponse {
            error_code: 48,
            ..AddPartitionsToTxnResponse::default()
        };
        assert_eq!(
            over_the_wire(&top_level, 3).error_code,
            0,
            "ignorable before v4"
        );
        assert_eq!(over_the_wire(&top_level, 4).error_code, 48);
    }

    fn topic() -> impl Strategy<Value = AddPartitionsToTxnTopic> {
        (name(), proptest::collection::vec(any::<i32>(), 0..4))
            .prop_map(|(name, partitions)| AddPartitionsToTxnTopic { name, partitions })
    }

    fn request_for(version: i16) -> impl Strategy<Value = AddPartitionsToTxnRequest> {
        let batched = version >= BATCHED;
        let transaction = (
            name(),
            any::<i64>(),
            any::<i16>(),
            any::<bool>(),
            proptest::collection::vec(topic(), 0..3),
        )
            .prop_map(
                |(transactional_id, producer_id, producer_epoch, verify_only, topics)| {
                    AddPartitionsToTxnTransaction {
                        transactional_id,
                        producer_id,
                        producer_epoch,
                        verify_only,
                        topics,
                    }
                },
            );
        (
            since(
                !batched,
                (
                    name(),
                    any::<i64>(),
                    any::<i16>(),
                    proptest::collection::vec(topic(), 0..3),
                ),
                (String::new(), 0, 0, Vec::new()),
            ),
            since(
                batched,
                proptest::collection::vec(transaction, 0..3),
                Vec::new(),
            ),
        )
            .prop_map(
                |((transactional_id, producer_id, producer_epoch, topics), transactions)| {
                    AddPartitionsToTxnRequest {
                        transactional_id,
                        producer_id,
                        producer_epoch,
                        topics,
                        transactions,
                    }
                },
            )
    }

    fn topic_result() -> impl Strategy<Value = AddPartitionsToTxnTopicResult> {
        let partition =
            (any::<i32>(), any::<i16>()).prop_map(|(partition_index, partition_error_code)| {
                AddPartitionsToTxnPartitionResult {
                    partition_index,
                    partition_error_code,
                }
            });
        (name(), proptest::collection::vec(partition, 0..3)).prop_map(
            |(name, results_by_partition)| AddPartitionsToTxnTopicResult {
                name,
                results_by_partition,
            },
        )
    }

    fn response_for(version: i16) -> impl Strategy<Value = AddPartitionsToTxnResponse> {
        let batched = version >= BATCHED;
        let result = (name(), proptest::collection::vec(topic_result(), 0..3)).prop_map(
            |(transactional_id, topic_results)| AddPartitionsToTxnResult {
                transactional_id,
                topic_results,
            },
        );
        (
            any::<i32>(),
            since(batched, any::<i16>(), 0),
            since(batched, proptest::collection::vec(result, 0..3), Vec::new()),
            since(
                !batched,
                proptest::collection::vec(topic_result(), 0..3),
                Vec::new(),
            ),
        )
            .prop_map(
                |(throttle_time_ms, error_code, results_by_transaction, results_by_topic)| {
                    AddPartitionsToTxnResponse {
                        throttle_time_ms,
                        error_code,
                        results_by_transaction,
                        results_by_topic,
                    }
                },
            )
    }

    message_tests! {
        request: AddPartitionsToTxnRequest = request_for,
        response: AddPartitionsToTxnResponse = response_for,
        random_input_len: 64,
    }

    // -- golden frames from Kafka 4.1.1 and the Java client (tests/golden/) ----------------

    #[test]
    fn v3_golden_frames_added_and_concurrent_transactions() {
        let (request, response) = golden_exchange::<AddPartitionsToTxnRequest>(
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-06-add_partitions_to_txn-v3-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-07-add_partitions_to_txn-v3-response.bin"
            ),
            3,
        );
        assert_eq!(request.transactional_id, "golden-tx-client39-transactional");
        assert_eq!((request.producer_id, request.producer_epoch), (1, 0));
        assert_eq!(
            request.topics,
            [AddPartitionsToTxnTopic {
                name: "golden-txn39".into(),
                partitions: vec![0],
            }]
        );
        assert_eq!(
            response.results_by_topic[0].results_by_partition[0].partition_error_code,
            0
        );
        // The next transaction's first add, while the broker was still writing the last
        // one's markers: CONCURRENT_TRANSACTIONS (51), which the client retries.
        let (_, busy) = golden_exchange::<AddPartitionsToTxnRequest>(
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-20-add_partitions_to_txn-v3-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-21-add_partitions_to_txn-v3-response.bin"
            ),
            3,
        );
        assert_eq!(
            busy.results_by_topic[0].results_by_partition[0].partition_error_code,
            51
        );
    }
}
