//! EndTxn (API key 26), versions 0 to 5: a transactional producer asks its transaction
//! coordinator to commit or abort the open transaction.
//!
//! Wire layout (flexible from v3):
//!
//! ```text
//! request   transactional_id STRING, producer_id INT64, producer_epoch INT16,
//!           committed BOOLEAN, TAG_BUFFER (v3+)
//! response  throttle_time_ms INT32, error_code INT16,
//!           producer_id INT64 (v5+), producer_epoch INT16 (v5+), TAG_BUFFER (v3+)
//! ```
//!
//! v1 is the same as v0; v2 and v4 only allow new error codes (PRODUCER_FENCED,
//! TRANSACTION_ABORTABLE). v5 is transaction version 2 (KIP-890 part 2): the coordinator
//! bumps the producer epoch at the end of every transaction and answers with the id and
//! epoch the producer continues with (both ignorable, -1 when absent).
//!
//! # References
//! - `EndTxnRequest.json`, `EndTxnResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-98 (transactions), KIP-588 (PRODUCER_FENCED), KIP-890 (transaction version 2)

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{put_tags, skip_tags};
use crate::primitives::{get_bool, get_i16, get_i32, get_i64, get_string, put_bool, put_string};

/// The first flexible version of EndTxn.
const FIRST_FLEXIBLE: i16 = 3;

/// The version whose response carries the producer id and epoch (KIP-890 part 2).
const PRODUCER_ID_IN_RESPONSE: i16 = 5;

/// The EndTxn request. Every field exists in every version.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndTxnRequest {
    /// The transactional id of the transaction to end.
    pub transactional_id: String,
    /// The producer id.
    pub producer_id: i64,
    /// The producer's current epoch.
    pub producer_epoch: i16,
    /// `true` to commit, `false` to abort.
    pub committed: bool,
}

impl Encode for EndTxnRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        put_string(buf, &self.transactional_id, flexible)?;
        buf.put_i64(self.producer_id);
        buf.put_i16(self.producer_epoch);
        put_bool(buf, self.committed);
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for EndTxnRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let transactional_id = get_string(buf, flexible)?;
        let producer_id = get_i64(buf)?;
        let producer_epoch = get_i16(buf)?;
        let committed = get_bool(buf)?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            transactional_id,
            producer_id,
            producer_epoch,
            committed,
        })
    }
}

impl Request for EndTxnRequest {
    const API_KEY: ApiKey = ApiKey::EndTxn;
    const VERSIONS: VersionRange = VersionRange::new(0, 5);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = EndTxnResponse;
}

/// The EndTxn response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndTxnResponse {
    /// How long the request was throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// The error code, 0 on success.
    pub error_code: i16,
    /// The producer id to continue with (v5+, ignorable; default -1).
    pub producer_id: i64,
    /// The producer epoch to continue with (v5+, ignorable; default -1).
    pub producer_epoch: i16,
}

impl Default for EndTxnResponse {
    fn default() -> Self {
        Self {
            throttle_time_ms: 0,
            error_code: 0,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

impl Encode for EndTxnResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<EndTxnRequest>(version)?;
        let flexible = EndTxnRequest::is_flexible(version);
        buf.put_i32(self.throttle_time_ms);
        buf.put_i16(self.error_code);
        if version >= PRODUCER_ID_IN_RESPONSE {
            buf.put_i64(self.producer_id);
            buf.put_i16(self.producer_epoch);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for EndTxnResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<EndTxnRequest>(version)?;
        let flexible = EndTxnRequest::is_flexible(version);
        let throttle_time_ms = get_i32(buf)?;
        let error_code = get_i16(buf)?;
        let (producer_id, producer_epoch) = if version >= PRODUCER_ID_IN_RESPONSE {
            (get_i64(buf)?, get_i16(buf)?)
        } else {
            (-1, -1)
        };
        skip_tags(buf, flexible)?;
        Ok(Self {
            throttle_time_ms,
            error_code,
            producer_id,
            producer_epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{
        assert_encodes_to, golden_exchange, message_tests, name, over_the_wire, since,
    };
    use proptest::prelude::*;

    #[test]
    fn v5_bytes_written_from_the_schema() {
        let request = EndTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 7,
            producer_epoch: 2,
            committed: true,
        };
        assert_encodes_to(
            &request,
            5,
            &[
                0x03, b't', b'x', // transactional_id: COMPACT_STRING of 2
                0, 0, 0, 0, 0, 0, 0, 7, // producer_id
                0, 2, // producer_epoch
                1, // committed
                0, // no tagged fields
            ],
        );
        let response = EndTxnResponse {
            throttle_time_ms: 0,
            error_code: 0,
            producer_id: 7,
            producer_epoch: 3,
        };
        assert_encodes_to(
            &response,
            5,
            &[
                0, 0, 0, 0, // throttle_time_ms
                0, 0, // error_code
                0, 0, 0, 0, 0, 0, 0, 7, // producer_id
                0, 3, // producer_epoch: bumped by the coordinator
                0, // no tagged fields
            ],
        );
    }

    #[test]
    fn v0_bytes_have_int16_strings_and_no_tags() {
        let request = EndTxnRequest {
            transactional_id: "tx".into(),
            producer_id: 1,
            producer_epoch: 0,
            committed: false,
        };
        assert_encodes_to(
            &request,
            0,
            &[0, 2, b't', b'x', 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0],
        );
    }

    #[test]
    fn before_v5_the_response_has_no_producer_id_and_reads_back_as_minus_one() {
        let response = EndTxnResponse {
            throttle_time_ms: 5,
            error_code: 0,
            producer_id: 9,
            producer_epoch: 9,
        };
        for version in 0..PRODUCER_ID_IN_RESPONSE {
            let back = over_the_wire(&response, version);
            assert_eq!((back.producer_id, back.producer_epoch), (-1, -1));
            assert_eq!(back.throttle_time_ms, 5);
        }
    }

    fn request() -> impl Strategy<Value = EndTxnRequest> {
        (name(), any::<i64>(), any::<i16>(), any::<bool>()).prop_map(
            |(transactional_id, producer_id, producer_epoch, committed)| EndTxnRequest {
                transactional_id,
                producer_id,
                producer_epoch,
                committed,
            },
        )
    }

    fn response_for(version: i16) -> impl Strategy<Value = EndTxnResponse> {
        let ids = since(
            version >= PRODUCER_ID_IN_RESPONSE,
            (any::<i64>(), any::<i16>()),
            (-1, -1),
        );
        (any::<i32>(), any::<i16>(), ids).prop_map(
            |(throttle_time_ms, error_code, (producer_id, producer_epoch))| EndTxnResponse {
                throttle_time_ms,
                error_code,
                producer_id,
                producer_epoch,
            },
        )
    }

    message_tests! {
        request: EndTxnRequest = |_| request(),
        response: EndTxnResponse = response_for,
        random_input_len: 48,
    }

    // -- golden frames from Kafka 4.1.1 and the Java client (tests/golden/) ----------------

    #[test]
    fn v5_golden_frames_carry_the_bumped_epoch_and_v4_frames_do_not() {
        let (request, response) = golden_exchange::<EndTxnRequest>(
            include_bytes!("../../tests/golden/transactional/c2-20-end_txn-v5-request.bin"),
            include_bytes!("../../tests/golden/transactional/c2-21-end_txn-v5-response.bin"),
            5,
        );
        assert_eq!(
            request,
            EndTxnRequest {
                transactional_id: "golden-tx-transactional".into(),
                producer_id: 0,
                producer_epoch: 0,
                committed: true,
            }
        );
        // Transaction version 2: the commit ends with the next epoch.
        assert_eq!(
            (
                response.error_code,
                response.producer_id,
                response.producer_epoch
            ),
            (0, 0, 1)
        );
        let (abort, answer) = golden_exchange::<EndTxnRequest>(
            include_bytes!("../../tests/golden/transactional/c2-24-end_txn-v5-request.bin"),
            include_bytes!("../../tests/golden/transactional/c2-25-end_txn-v5-response.bin"),
            5,
        );
        assert_eq!((abort.producer_epoch, abort.committed), (1, false));
        assert_eq!(answer.producer_epoch, 2);
        let (classic, answer) = golden_exchange::<EndTxnRequest>(
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-18-end_txn-v4-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/client39-transactional/c2-19-end_txn-v4-response.bin"
            ),
            4,
        );
        assert_eq!((classic.producer_id, classic.producer_epoch), (1, 0));
        assert_eq!((answer.producer_id, answer.producer_epoch), (-1, -1));
    }
}
