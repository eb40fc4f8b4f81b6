//! AddOffsetsToTxn (API key 25), versions 0 to 4: a transactional producer tells its
//! transaction coordinator that the transaction will commit offsets of a consumer group
//! (consume-transform-produce); the offsets themselves then go to the group coordinator in
//! TxnOffsetCommit.
//!
//! Wire layout (flexible from v3):
//!
//! ```text
//! request   transactional_id STRING, producer_id INT64, producer_epoch INT16,
//!           group_id STRING, TAG_BUFFER (v3+)
//! response  throttle_time_ms INT32, error_code INT16, TAG_BUFFER (v3+)
//! ```
//!
//! v1 is the same as v0; v2 and v4 only allow new error codes (PRODUCER_FENCED,
//! TRANSACTION_ABORTABLE).
//!
//! # References
//! - `AddOffsetsToTxnRequest.json`, `AddOffsetsToTxnResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-98 (transactions: sendOffsetsToTransaction), KIP-447 (group metadata in
//!   TxnOffsetCommit), KIP-890 (TRANSACTION_ABORTABLE)

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{put_tags, skip_tags};
use crate::primitives::{get_i16, get_i32, get_i64, get_string, put_string};

/// The first flexible version of AddOffsetsToTxn.
const FIRST_FLEXIBLE: i16 = 3;

/// The AddOffsetsToTxn request. Every field exists in every version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddOffsetsToTxnRequest {
    /// The transactional id.
    pub transactional_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// The consumer group whose offsets the transaction will commit.
    pub group_id: String,
}

impl Encode for AddOffsetsToTxnRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        put_string(buf, &self.transactional_id, flexible)?;
        buf.put_i64(self.producer_id);
        buf.put_i16(self.producer_epoch);
        put_string(buf, &self.group_id, flexible)?;
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for AddOffsetsToTxnRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let transactional_id = get_string(buf, flexible)?;
        let producer_id = get_i64(buf)?;
        let producer_epoch = get_i16(buf)?;
        let group_id = get_string(buf, flexible)?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            transactional_id,
            producer_id,
            producer_epoch,
            group_id,
        })
    }
}

impl Request for AddOffsetsToTxnRequest {
    const API_KEY: ApiKey = ApiKey::AddOffsetsToTxn;
    const VERSIONS: VersionRange = VersionRange::new(0, 4);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = AddOffsetsToTxnResponse;
}

/// The AddOffsetsToTxn response. Both fields exist in every version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddOffsetsToTxnResponse {
    /// How long the request was throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// The error code, 0 on success.
    pub error_code: i16,
}

impl Encode for AddOffsetsToTxnResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<AddOffsetsToTxnRequest>(version)?;
        let flexible = AddOffsetsToTxnRequest::is_flexible(version);
        buf.put_i32(self.throttle_time_ms);
        buf.put_i16(self.error_code);
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for AddOffsetsToTxnResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<AddOffsetsToTxnRequest>(version)?;
        let flexible = AddOffsetsToTxnRequest::is_flexible(version);
        let throttle_time_ms = get_i32(buf)?;
        let error_code = get_i16(buf)?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            throttle_time_ms,
            error_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{assert_encodes_to, golden_exchange, message_tests, name};
    use proptest::prelude::*;

    #[test]
    fn v4_and_v2_bytes_written_from_the_schema() {
        let request = AddOffsetsToTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 7,
            producer_epoch: 2,
            group_id: "g".into(),
        };
        assert_encodes_to(
            &request,
            4,
            &[
                0x03, b't', b'x', // transactional_id: COMPACT_STRING of 2
                0, 0, 0, 0, 0, 0, 0, 7, // producer_id
                0, 2, // producer_epoch
                0x02, b'g', // group_id: COMPACT_STRING of 1
                0,    // no tagged fields
            ],
        );
        assert_encodes_to(
            &request,
            2,
            &[0, 2, b't', b'x', 0, 0, 0, 0, 0, 0, 0, 7, 0, 2, 0, 1, b'g'],
        );
        let response = AddOffsetsToTxnResponse {
            throttle_time_ms: 1,
            error_code: 51, // CONCURRENT_TRANSACTIONS
        };
        assert_encodes_to(&response, 4, &[0, 0, 0, 1, 0, 51, 0]);
        assert_encodes_to(&response, 0, &[0, 0, 0, 1, 0, 51]);
    }

    fn request() -> impl Strategy<Value = AddOffsetsToTxnRequest> {
        (name(), any::<i64>(), any::<i16>(), name()).prop_map(
            |(transactional_id, producer_id, producer_epoch, group_id)| AddOffsetsToTxnRequest {
                transactional_id,
                producer_id,
                producer_epoch,
                group_id,
            },
        )
    }

    fn response() -> impl Strategy<Value = AddOffsetsToTxnResponse> {
        (any::<i32>(), any::<i16>()).prop_map(|(throttle_time_ms, error_code)| {
            AddOffsetsToTxnResponse {
                throttle_time_ms,
                error_code,
            }
        })
    }

    message_tests! {
        request: AddOffsetsToTxnRequest = |_| request(),
        response: AddOffsetsToTxnResponse = |_| response(),
        random_input_len: 48,
    }

    // -- golden frames from Kafka 4.1.1 and the Java client (tests/golden/) ----------------

    #[test]
    fn v4_golden_frames_from_a_classic_transaction() {
        let (request, response) = golden_exchange::<AddOffsetsToTxnRequest>(
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-12-add_offsets_to_txn-v4-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-13-add_offsets_to_txn-v4-response.bin"
            ),
            4,
        );
        assert_eq!(
            request,
            AddOffsetsToTxnRequest {
                transactional_id: "golden-tx-client39-transactional".into(),
                producer_id: 1,
                producer_epoch: 0,
                group_id: "golden-group-client39-transactional".into(),
            }
        );
        assert_eq!(response.error_code, 0);
    }
}
