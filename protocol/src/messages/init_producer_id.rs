//! InitProducerId (API key 22), versions 0 to 5: obtains the producer id and epoch that an
//! idempotent (or transactional) producer stamps on its record batches.
//!
//! Wire layout (flexible from v2):
//!
//! ```text
//! request   transactional_id NULLABLE_STRING, transaction_timeout_ms INT32,
//!           producer_id INT64 (v3+), producer_epoch INT16 (v3+), TAG_BUFFER (v2+)
//! response  throttle_time_ms INT32, error_code INT16, producer_id INT64,
//!           producer_epoch INT16, TAG_BUFFER (v2+)
//! ```
//!
//! v1 is the same as v0, v3 added the producer id and epoch to the request, v4 and v5 only
//! allow new error codes (PRODUCER_FENCED, TRANSACTION_ABORTABLE).
//!
//! An idempotent-only producer sends a null transactional id ([`InitProducerIdRequest::idempotent`])
//! to any broker and gets a fresh producer id with epoch 0. A broker answers
//! `INVALID_REQUEST` when only one of `producer_id` and `producer_epoch` is set.
//!
//! # References
//! - `InitProducerIdRequest.json`, `InitProducerIdResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-98 (idempotent and transactional producer), KIP-360 (producer id and epoch in the
//!   request), KIP-588 (PRODUCER_FENCED), KIP-890 (TRANSACTION_ABORTABLE)

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{check_field, put_tags, skip_tags};
use crate::primitives::{get_i16, get_i32, get_i64, get_nullable_string, put_nullable_string};

/// The first flexible version of InitProducerId.
const FIRST_FLEXIBLE: i16 = 2;

/// The version that added `producer_id` and `producer_epoch` to the request.
const PRODUCER_ID_IN_REQUEST: i16 = 3;

/// The InitProducerId request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdRequest {
    /// The transactional id, or `None` for a producer that is only idempotent.
    pub transactional_id: Option<String>,
    /// How long the coordinator waits before aborting an idle transaction, in milliseconds.
    /// Only meaningful with a transactional id.
    pub transaction_timeout_ms: i32,
    /// The producer's current id, or -1 (v3+). Any other value fails to encode below v3.
    pub producer_id: i64,
    /// The producer's current epoch, or -1 (v3+). Any other value fails to encode below v3.
    pub producer_epoch: i16,
}

impl InitProducerIdRequest {
    /// The request an idempotent, non-transactional producer sends: null transactional id,
    /// a timeout of `i32::MAX` (what the Java client sends), no current producer id or epoch.
    pub const fn idempotent() -> Self {
        Self {
            transactional_id: None,
            transaction_timeout_ms: i32::MAX,
            producer_id: -1,
            producer_epoch: -1,
        }
    }
}

impl Encode for InitProducerIdRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let carried = version >= PRODUCER_ID_IN_REQUEST;
        check_field("producer_id", version, carried, self.producer_id == -1)?;
        check_field(
            "producer_epoch",
            version,
            carried,
            self.producer_epoch == -1,
        )?;
        let flexible = Self::is_flexible(version);
        put_nullable_string(buf, self.transactional_id.as_deref(), flexible)?;
        buf.put_i32(self.transaction_timeout_ms);
        if carried {
            buf.put_i64(self.producer_id);
            buf.put_i16(self.producer_epoch);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for InitProducerIdRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let transactional_id = get_nullable_string(buf, flexible)?;
        let transaction_timeout_ms = get_i32(buf)?;
        let (producer_id, producer_epoch) = if version >= PRODUCER_ID_IN_REQUEST {
            (get_i64(buf)?, get_i16(buf)?)
        } else {
            (-1, -1)
        };
        skip_tags(buf, flexible)?;
        Ok(Self {
            transactional_id,
            transaction_timeout_ms,
            producer_id,
            producer_epoch,
        })
    }
}

impl Request for InitProducerIdRequest {
    const API_KEY: ApiKey = ApiKey::InitProducerId;
    const VERSIONS: VersionRange = VersionRange::new(0, 5);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = InitProducerIdResponse;
}

/// The InitProducerId response. Every field exists in every version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitProducerIdResponse {
    /// How long the request was throttled, in milliseconds.
    pub throttle_time_ms: i32,
    /// The error code, 0 on success.
    pub error_code: i16,
    /// The producer id to use, -1 on error.
    pub producer_id: i64,
    /// The epoch that goes with `producer_id`.
    pub producer_epoch: i16,
}

impl Default for InitProducerIdResponse {
    fn default() -> Self {
        Self {
            throttle_time_ms: 0,
            error_code: 0,
            producer_id: -1,
            producer_epoch: 0,
        }
    }
}

impl Encode for InitProducerIdResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<InitProducerIdRequest>(version)?;
        buf.put_i32(self.throttle_time_ms);
        buf.put_i16(self.error_code);
        buf.put_i64(self.producer_id);
        buf.put_i16(self.producer_epoch);
        put_tags(buf, InitProducerIdRequest::is_flexible(version));
        Ok(())
    }
}

impl Decode for InitProducerIdResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<InitProducerIdRequest>(version)?;
        let response = Self {
            throttle_time_ms: get_i32(buf)?,
            error_code: get_i16(buf)?,
            producer_id: get_i64(buf)?,
            producer_epoch: get_i16(buf)?,
        };
        skip_tags(buf, InitProducerIdRequest::is_flexible(version))?;
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{
        assert_encodes_to, assert_not_ignorable, golden_exchange, message_tests, name, since,
    };
    use proptest::prelude::*;

    #[test]
    fn v4_idempotent_request_bytes() {
        let bytes: &[u8] = &[
            0x00, // transactional_id: COMPACT_NULLABLE_STRING, null
            0x7f, 0xff, 0xff, 0xff, // transaction_timeout_ms: i32::MAX
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // producer_id: -1
            0xff, 0xff, // producer_epoch: -1
            0x00, // TAG_BUFFER: no tagged fields
        ];
        assert_encodes_to(&InitProducerIdRequest::idempotent(), 4, bytes);
    }

    #[test]
    fn v1_transactional_request_bytes() {
        let request = InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            transaction_timeout_ms: 60_000,
            ..InitProducerIdRequest::idempotent()
        };
        let bytes: &[u8] = &[
            0x00, 0x02, b't', b'x', // transactional_id: NULLABLE_STRING of 2
            0x00, 0x00, 0xea, 0x60, // transaction_timeout_ms: 60000
        ];
        assert_encodes_to(&request, 1, bytes);
    }

    #[test]
    fn v4_response_bytes() {
        let response = InitProducerIdResponse {
            throttle_time_ms: 0,
            error_code: 0,
            producer_id: 1000,
            producer_epoch: 0,
        };
        let bytes: &[u8] = &[
            0x00, 0x00, 0x00, 0x00, // throttle_time_ms: 0
            0x00, 0x00, // error_code: 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, // producer_id: 1000
            0x00, 0x00, // producer_epoch: 0
            0x00, // TAG_BUFFER: no tagged fields
        ];
        assert_encodes_to(&response, 4, bytes);
    }

    #[test]
    fn producer_id_and_epoch_need_v3() {
        let resume = InitProducerIdRequest {
            transactional_id: Some("tx".into()),
            transaction_timeout_ms: 60_000,
            producer_id: 42,
            producer_epoch: 7,
        };
        let versions = InitProducerIdRequest::VERSIONS;
        let carried = |v| v >= PRODUCER_ID_IN_REQUEST;
        assert_not_ignorable(&resume, versions, "producer_id", carried);
        let epoch_only = InitProducerIdRequest {
            producer_id: -1,
            ..resume
        };
        assert_not_ignorable(&epoch_only, versions, "producer_epoch", carried);
    }

    fn request_for(version: i16) -> impl Strategy<Value = InitProducerIdRequest> {
        let ids = since(
            version >= PRODUCER_ID_IN_REQUEST,
            (any::<i64>(), any::<i16>()),
            (-1, -1),
        );
        (proptest::option::of(name()), any::<i32>(), ids).prop_map(
            |(transactional_id, timeout, (producer_id, producer_epoch))| InitProducerIdRequest {
                transactional_id,
                transaction_timeout_ms: timeout,
                producer_id,
                producer_epoch,
            },
        )
    }

    fn response() -> impl Strategy<Value = InitProducerIdResponse> {
        (any::<i32>(), any::<i16>(), any::<i64>(), any::<i16>()).prop_map(
            |(throttle_time_ms, error_code, producer_id, producer_epoch)| InitProducerIdResponse {
                throttle_time_ms,
                error_code,
                producer_id,
                producer_epoch,
            },
        )
    }

    message_tests! {
        request: InitProducerIdRequest = request_for,
        response: InitProducerIdResponse = |_| response(),
        random_input_len: 48,
    }

    // -- golden frames from Kafka 4.1.1 and the Java client (tests/golden/) ----------------

    #[test]
    fn v5_golden_frames_of_a_transactional_producer() {
        // The first try, while the coordinator was still loading: COORDINATOR_LOAD_IN_PROGRESS.
        let (request, response) = golden_exchange::<InitProducerIdRequest>(
            include_bytes!(
                "../../tests/golden/transactional/c2-04-init_producer_id-v5-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/transactional/c2-05-init_producer_id-v5-response.bin"
            ),
            5,
        );
        assert_eq!(
            request.transactional_id.as_deref(),
            Some("golden-tx-transactional")
        );
        assert_eq!(request.transaction_timeout_ms, 60_000);
        assert_eq!((request.producer_id, request.producer_epoch), (-1, -1));
        assert_eq!(response.error_code, 14);
        let (_, response) = golden_exchange::<InitProducerIdRequest>(
            include_bytes!(
                "../../tests/golden/transactional/c2-06-init_producer_id-v5-request.bin"
            ),
            include_bytes!(
                "../../tests/golden/transactional/c2-07-init_producer_id-v5-response.bin"
            ),
            5,
        );
        assert_eq!(
            (
                response.error_code,
                response.producer_id,
                response.producer_epoch
            ),
            (0, 0, 0)
        );
    }
}
