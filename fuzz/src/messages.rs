//! Checks for the message decoders: response frames (header and body) and request frames.
//!
//! Whatever decodes must re-encode in the same version, and the re-encoding must decode to
//! the same value (decode, encode, decode is stable). Versions outside an API's range must
//! never decode.
//!
//! # References
//! - `kiel_protocol::frame::decode_response`, `kiel_protocol::api::decode_exact`
//! - Kafka protocol guide: <https://kafka.apache.org/protocol>

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use kiel_protocol::api::decode_exact;
use kiel_protocol::frame::{decode_response, encode_request, peek_correlation_id, FrameReader};
use kiel_protocol::header::RequestHeader;
use kiel_protocol::messages::add_offsets_to_txn::AddOffsetsToTxnRequest;
use kiel_protocol::messages::add_partitions_to_txn::AddPartitionsToTxnRequest;
use kiel_protocol::messages::api_versions::{ApiVersionsRequest, ApiVersionsResponse};
use kiel_protocol::messages::end_txn::EndTxnRequest;
use kiel_protocol::messages::find_coordinator::FindCoordinatorRequest;
use kiel_protocol::messages::init_producer_id::InitProducerIdRequest;
use kiel_protocol::messages::metadata::MetadataRequest;
use kiel_protocol::messages::produce::ProduceRequest;
use kiel_protocol::messages::sasl_authenticate::SaslAuthenticateRequest;
use kiel_protocol::messages::sasl_handshake::SaslHandshakeRequest;
use kiel_protocol::messages::txn_offset_commit::TxnOffsetCommitRequest;
use kiel_protocol::record::{DecodeOptions, RecordBatch};
use kiel_protocol::{ApiKey, Decode, Encode, Request};

use super::pick_version;

/// The error code a broker answers an ApiVersions request of an unknown version with.
const UNSUPPORTED_VERSION: i16 = 35;

/// The decompression limit for record batches found inside fuzzed Produce requests.
const MAX_DECOMPRESSED: usize = 1 << 20;

/// Encodes `value` in `version` (which must work, since it was just decoded there), decodes
/// the result, and checks it is `value` again. Returns the encoding.
fn assert_reencodes<T>(value: &T, version: i16) -> Bytes
where
    T: Encode + Decode + PartialEq + Debug,
{
    let mut buf = BytesMut::new();
    if let Err(e) = value.encode(&mut buf, version) {
        panic!("decoded v{version} value does not re-encode: {e}\n{value:?}");
    }
    let bytes = buf.freeze();
    match decode_exact::<T>(bytes.clone(), version) {
        Ok(again) => assert_eq!(&again, value, "v{version}: decode(encode(x)) != x"),
        Err(e) => panic!("re-encoded v{version} value does not decode: {e}\n{value:?}"),
    }
    bytes
}

/// Input: a version selector byte, then a response frame (header and body, no size prefix).
/// Decodes it with [`decode_response`] (taking the correlation id from the frame) and checks
/// that the body re-encodes to itself.
fn check_response<R>(data: &[u8]) -> Option<(i16, R::Response)>
where
    R: Request,
    R::Response: Encode + PartialEq + Debug,
{
    let (&selector, frame) = data.split_first()?;
    let version = pick_version(R::VERSIONS, selector);
    let frame = Bytes::copy_from_slice(frame);
    let correlation_id = peek_correlation_id(&frame).ok()?;
    let response = decode_response::<R>(frame, version, correlation_id).ok()?;
    assert_reencodes(&response, version);
    Some((version, response))
}

/// ApiVersions responses (v0-v4; the header is always v0): the frame decodes as above, and
/// [`ApiVersionsResponse::decode_with_fallback`] on the body agrees with a plain decode in
/// the version it reports.
pub fn decode_api_versions_response(data: &[u8]) -> bool {
    let decoded = check_response::<ApiVersionsRequest>(data);
    let Some((&selector, frame)) = data.split_first() else {
        return false;
    };
    let version = pick_version(ApiVersionsRequest::VERSIONS, selector);
    let Some(body) = frame.get(4..) else {
        return false;
    };
    let body = Bytes::copy_from_slice(body);
    let fallback = ApiVersionsResponse::decode_with_fallback(body.clone(), version);
    if let Ok((response, used)) = &fallback {
        assert!(
            *used == version || *used == 0,
            "fallback used v{used} for v{version}"
        );
        assert_eq!(
            decode_exact::<ApiVersionsResponse>(body, *used).as_ref(),
            Ok(response),
            "fallback result differs from a plain v{used} decode"
        );
    }
    let accepted = decoded.is_some() || fallback.is_ok();
    if let Some((_, response)) = decoded {
        if response.error_code != UNSUPPORTED_VERSION {
            assert_eq!(
                fallback,
                Ok((response, version)),
                "a v{version} response without error 35 must not fall back"
            );
        }
    }
    accepted
}

/// Metadata responses (v0-v13), as [`check_response`].
pub fn decode_metadata_response(data: &[u8]) -> bool {
    check_response::<MetadataRequest>(data).is_some()
}

/// Produce responses (v3-v12), as [`check_response`].
pub fn decode_produce_response(data: &[u8]) -> bool {
    check_response::<ProduceRequest>(data).is_some()
}

/// InitProducerId responses (v0-v5), as [`check_response`].
pub fn decode_init_producer_id_response(data: &[u8]) -> bool {
    check_response::<InitProducerIdRequest>(data).is_some()
}

/// SaslHandshake responses (v0-v1, header v0), as [`check_response`].
pub fn decode_sasl_handshake_response(data: &[u8]) -> bool {
    check_response::<SaslHandshakeRequest>(data).is_some()
}

/// SaslAuthenticate responses (v0-v2), as [`check_response`].
pub fn decode_sasl_authenticate_response(data: &[u8]) -> bool {
    check_response::<SaslAuthenticateRequest>(data).is_some()
}

/// FindCoordinator responses (v0-v6), as [`check_response`].
pub fn decode_find_coordinator_response(data: &[u8]) -> bool {
    check_response::<FindCoordinatorRequest>(data).is_some()
}

/// AddPartitionsToTxn responses (v0-v5), as [`check_response`].
pub fn decode_add_partitions_to_txn_response(data: &[u8]) -> bool {
    check_response::<AddPartitionsToTxnRequest>(data).is_some()
}

/// AddOffsetsToTxn responses (v0-v4), as [`check_response`].
pub fn decode_add_offsets_to_txn_response(data: &[u8]) -> bool {
    check_response::<AddOffsetsToTxnRequest>(data).is_some()
}

/// EndTxn responses (v0-v5), as [`check_response`].
pub fn decode_end_txn_response(data: &[u8]) -> bool {
    check_response::<EndTxnRequest>(data).is_some()
}

/// TxnOffsetCommit responses (v0-v5), as [`check_response`].
pub fn decode_txn_offset_commit_response(data: &[u8]) -> bool {
    check_response::<TxnOffsetCommitRequest>(data).is_some()
}

/// Input: a request frame (header and body, no size prefix), as a broker would read it. The
/// api key and version in the header pick the body's decoder; unknown keys only exercise the
/// header decoder.
pub fn decode_requests(data: &[u8]) -> bool {
    let frame = Bytes::copy_from_slice(data);
    let (Some(key), Some(version)) = (data.get(..2), data.get(2..4)) else {
        return false;
    };
    let api_key = i16::from_be_bytes([key[0], key[1]]);
    let version = i16::from_be_bytes([version[0], version[1]]);
    match ApiKey::from_code(api_key) {
        Some(ApiKey::Produce) => check_request::<ProduceRequest>(frame, version)
            .map(|request| check_produce_request(&request, version))
            .is_some(),
        Some(ApiKey::Metadata) => check_request::<MetadataRequest>(frame, version).is_some(),
        Some(ApiKey::ApiVersions) => check_request::<ApiVersionsRequest>(frame, version).is_some(),
        Some(ApiKey::InitProducerId) => {
            check_request::<InitProducerIdRequest>(frame, version).is_some()
        }
        Some(ApiKey::SaslHandshake) => {
            check_request::<SaslHandshakeRequest>(frame, version).is_some()
        }
        Some(ApiKey::SaslAuthenticate) => {
            check_request::<SaslAuthenticateRequest>(frame, version).is_some()
        }
        Some(ApiKey::FindCoordinator) => {
            check_request::<FindCoordinatorRequest>(frame, version).is_some()
        }
        Some(ApiKey::AddPartitionsToTxn) => {
            check_request::<AddPartitionsToTxnRequest>(frame, version).is_some()
        }
        Some(ApiKey::AddOffsetsToTxn) => {
            check_request::<AddOffsetsToTxnRequest>(frame, version).is_some()
        }
        Some(ApiKey::EndTxn) => check_request::<EndTxnRequest>(frame, version).is_some(),
        Some(ApiKey::TxnOffsetCommit) => {
            check_request::<TxnOffsetCommitRequest>(frame, version).is_some()
        }
        _ => {
            for header_version in 0..=2 {
                let _ = RequestHeader::decode(&mut frame.clone(), header_version);
            }
            false
        }
    }
}

/// Decodes a request frame of type `R` in `version`; when it decodes, checks the header
/// echoes the key and version, the body re-encodes to itself, and the whole frame written
/// by [`encode_request`] reads back the same.
fn check_request<R>(mut frame: Bytes, version: i16) -> Option<R>
where
    R: Request + Decode + PartialEq + Debug,
{
    let header = RequestHeader::decode(&mut frame, R::request_header_version(version)).ok()?;
    assert_eq!(
        (header.api_key, header.api_version),
        (R::API_KEY.code(), version)
    );
    let request = decode_exact::<R>(frame, version).ok()?;
    assert!(
        R::VERSIONS.contains(version),
        "{} v{version} decoded outside the codec's versions",
        R::API_KEY
    );
    assert_reencodes(&request, version);

    let mut out = BytesMut::new();
    if let Err(e) = encode_request(
        &request,
        version,
        header.correlation_id,
        header.client_id.as_deref(),
        &mut out,
    ) {
        panic!(
            "decoded {} v{version} request does not re-frame: {e}",
            R::API_KEY
        );
    }
    let frame = match FrameReader::default().next_frame(&mut out) {
        Ok(Some(frame)) => frame,
        other => panic!("encode_request wrote no whole frame: {other:?}"),
    };
    assert!(out.is_empty(), "encode_request wrote more than one frame");
    let mut frame = frame;
    let again = RequestHeader::decode(&mut frame, R::request_header_version(version));
    let again = again.unwrap_or_else(|e| panic!("re-framed header does not decode: {e}"));
    assert_eq!(
        (
            again.api_key,
            again.api_version,
            again.correlation_id,
            &again.client_id
        ),
        (
            header.api_key,
            header.api_version,
            header.correlation_id,
            &header.client_id
        )
    );
    assert_eq!(decode_exact::<R>(frame, version).as_ref(), Ok(&request));
    Some(request)
}

/// Produce-specific promises: `encoded_len` is exact, `encode_frame_chunks` concatenates to
/// what `encode_request` writes, and the record batches inside decode without panicking.
fn check_produce_request(request: &ProduceRequest, version: i16) {
    let body = assert_reencodes(request, version);
    assert_eq!(request.encoded_len(version), body.len(), "encoded_len");

    let mut framed = BytesMut::new();
    if let Err(e) = encode_request(request, version, 7, Some("fuzz"), &mut framed) {
        panic!("encode_request failed: {e}");
    }
    for inline_below in [0, 64, usize::MAX] {
        match request.encode_frame_chunks(version, 7, Some("fuzz"), inline_below) {
            Ok(chunks) => assert_eq!(chunks.concat(), framed.to_vec(), "chunks"),
            Err(e) => panic!("encode_frame_chunks failed where encode_request did not: {e}"),
        }
    }

    let options = DecodeOptions {
        max_decompressed_bytes: MAX_DECOMPRESSED,
    };
    for partition in request.topics.iter().flat_map(|t| &t.partitions) {
        if let Some(records) = &partition.records {
            let _ = RecordBatch::decode_all_with(records.clone(), &options);
        }
    }
}
