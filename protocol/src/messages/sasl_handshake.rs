//! SaslHandshake (API key 17), versions 0 and 1: the client names the SASL mechanism it wants
//! to use on a `SASL_PLAINTEXT` or `SASL_SSL` connection, and the broker answers with the
//! mechanisms its listener has enabled.
//!
//! Wire layout (no flexible version):
//!
//! ```text
//! request   mechanism STRING
//! response  error_code INT16, mechanisms [STRING]
//! ```
//!
//! Both versions have the same fields; they differ in what comes next on the connection:
//!
//! - After a **v0** handshake (the legacy form, deprecated in the schema) the client sends
//!   the mechanism's tokens raw: each one a 4-byte size and the token, with no Kafka request
//!   header, and the broker answers each one the same way. A failed authentication just
//!   closes the connection.
//! - After a **v1** handshake every token travels in a SaslAuthenticate request (API key 36,
//!   [`crate::messages::sasl_authenticate`]) and the broker's tokens, or an error code and
//!   message, come back in its response.
//!
//! [`tokens_in_sasl_authenticate`] says which of the two a version means. kiel only sends
//! v1; this codec reads and writes both. The schema's version cannot be bumped beyond 1
//! (KAFKA-9577: clients up to 2.4 negotiated it wrongly), so v1 is also the newest.
//!
//! On a SASL connection the Java client (4.0.1, in the captures of `tests/golden/`) first
//! sends an ApiVersions v0 of its own (an empty body) to learn the SASL versions, then
//! SaslHandshake v1, then SaslAuthenticate v2 until the exchange is over, and only then the
//! ApiVersions v4 every connection starts with.
//!
//! A broker answers a mechanism it has not enabled with `UNSUPPORTED_SASL_MECHANISM` (33),
//! still listing its mechanisms, and a handshake at the wrong point of the exchange with
//! `ILLEGAL_SASL_STATE` (34). SaslHandshake has no flexible version
//! ([`Request::FIRST_FLEXIBLE_VERSION`] is `i16::MAX`): its requests use header v1, its
//! responses header v0, and no struct ends with a tag buffer. The code still computes
//! `flexible` and ends each struct with `put_tags` / `skip_tags` (which do nothing here), as
//! every message does.
//!
//! # References
//! - `SaslHandshakeRequest.json`, `SaslHandshakeResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-43 (SASL mechanisms other than GSSAPI, SaslHandshake v0 and the raw token exchange)
//! - KIP-152 (SaslAuthenticate, and SaslHandshake v1 that switches to it)
//! - KIP-368 (re-authentication: a new SaslHandshake on the same connection)
//! - KAFKA-9577 (why SaslHandshake stays at v1)
//! - Kafka protocol guide, "SASL Authentication Sequence":
//!   <https://kafka.apache.org/protocol#sasl_handshake>

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{min_string_len, put_tags, skip_tags};
use crate::primitives::{get_array, get_i16, get_string, put_array, put_string};

/// The first version after which the tokens travel in SaslAuthenticate requests (KIP-152).
const SASL_AUTHENTICATE_VERSION: i16 = 1;

/// Whether, after a SaslHandshake in `version`, the client sends its SASL tokens in
/// SaslAuthenticate requests (v1) rather than raw, size-prefixed and without a header (v0).
pub const fn tokens_in_sasl_authenticate(version: i16) -> bool {
    version >= SASL_AUTHENTICATE_VERSION
}

/// The SaslHandshake request. Its one field exists in both versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslHandshakeRequest {
    /// The SASL mechanism the client chose, e.g. `PLAIN` or `SCRAM-SHA-256`.
    pub mechanism: String,
}

impl SaslHandshakeRequest {
    /// A request for `mechanism`.
    pub fn new(mechanism: impl Into<String>) -> Self {
        Self {
            mechanism: mechanism.into(),
        }
    }
}

impl Encode for SaslHandshakeRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        put_string(buf, &self.mechanism, flexible)?;
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for SaslHandshakeRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let mechanism = get_string(buf, flexible)?;
        skip_tags(buf, flexible)?;
        Ok(Self { mechanism })
    }
}

impl Request for SaslHandshakeRequest {
    const API_KEY: ApiKey = ApiKey::SaslHandshake;
    const VERSIONS: VersionRange = VersionRange::new(0, 1);
    /// None: SaslHandshake has no flexible version.
    const FIRST_FLEXIBLE_VERSION: i16 = i16::MAX;
    type Response = SaslHandshakeResponse;
}

/// The SaslHandshake response. Both fields exist in both versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaslHandshakeResponse {
    /// The error code, 0 on success; `UNSUPPORTED_SASL_MECHANISM` (33) when the mechanism
    /// asked for is not enabled.
    pub error_code: i16,
    /// The mechanisms enabled on the broker's listener, in its configured order.
    pub mechanisms: Vec<String>,
}

impl SaslHandshakeResponse {
    /// Whether the broker listed `mechanism` (compared exactly, as the broker does).
    pub fn offers(&self, mechanism: &str) -> bool {
        self.mechanisms.iter().any(|m| m == mechanism)
    }
}

impl Encode for SaslHandshakeResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<SaslHandshakeRequest>(version)?;
        let flexible = SaslHandshakeRequest::is_flexible(version);
        buf.put_i16(self.error_code);
        put_array(buf, &self.mechanisms, flexible, |b, m| {
            put_string(b, m, flexible)
        })?;
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for SaslHandshakeResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<SaslHandshakeRequest>(version)?;
        let flexible = SaslHandshakeRequest::is_flexible(version);
        let error_code = get_i16(buf)?;
        let mechanisms = get_array(buf, flexible, min_string_len(flexible), |b| {
            get_string(b, flexible)
        })?;
        skip_tags(buf, flexible)?;
        Ok(Self {
            error_code,
            mechanisms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::test_util::{assert_encodes_to, message_tests, name};
    use crate::ErrorCode;
    use proptest::prelude::*;

    /// Frames captured from Kafka 4.1.1 and kafka-clients 4.0.1 (`tests/golden/`): the
    /// request after its 21-byte header v1 (api key, version, correlation id, client id
    /// `kiel-golden`), the response after its 4-byte header v0 (correlation id).
    const CAPTURED_REQUEST: &[u8] =
        include_bytes!("../../tests/golden/sasl-scram-sha-256/c1-02-sasl_handshake-v1-request.bin");
    const CAPTURED_RESPONSE: &[u8] =
        include_bytes!("../../tests/golden/sasl-plain/c1-03-sasl_handshake-v1-response.bin");

    #[test]
    fn v1_request_bytes_captured_from_the_java_client() {
        let bytes: &[u8] = &[
            0x00, 0x0d, // mechanism: STRING of 13
            b'S', b'C', b'R', b'A', b'M', b'-', b'S', b'H', b'A', b'-', b'2', b'5', b'6',
        ];
        assert_eq!(&CAPTURED_REQUEST[21..], bytes);
        assert_encodes_to(&SaslHandshakeRequest::new("SCRAM-SHA-256"), 1, bytes);
    }

    #[test]
    fn v1_response_bytes_captured_from_kafka() {
        let response = SaslHandshakeResponse {
            error_code: 0,
            mechanisms: vec!["PLAIN".into(), "SCRAM-SHA-256".into()],
        };
        let bytes: &[u8] = &[
            0x00, 0x00, // error_code: 0
            0x00, 0x00, 0x00, 0x02, // mechanisms: ARRAY of 2
            0x00, 0x05, b'P', b'L', b'A', b'I', b'N', // [0]: STRING of 5
            0x00, 0x0d, b'S', b'C', b'R', b'A', b'M', b'-', b'S', b'H', b'A', b'-', b'2', b'5',
            b'6', // [1]: STRING of 13
        ];
        assert_eq!(&CAPTURED_RESPONSE[4..], bytes);
        assert_encodes_to(&response, 1, bytes);
    }

    #[test]
    fn v0_request_bytes_are_the_same_as_v1() {
        let bytes: &[u8] = &[
            0x00, 0x05, // mechanism: STRING of 5
            b'P', b'L', b'A', b'I', b'N',
        ];
        assert_encodes_to(&SaslHandshakeRequest::new("PLAIN"), 0, bytes);
        assert_encodes_to(&SaslHandshakeRequest::new("PLAIN"), 1, bytes);
    }

    #[test]
    fn v0_unsupported_mechanism_response_bytes() {
        let response = SaslHandshakeResponse {
            error_code: ErrorCode::UnsupportedSaslMechanism.code(),
            mechanisms: vec!["GSSAPI".into(), "PLAIN".into()],
        };
        let bytes: &[u8] = &[
            0x00, 0x21, // error_code: 33 UNSUPPORTED_SASL_MECHANISM
            0x00, 0x00, 0x00, 0x02, // mechanisms: ARRAY of 2
            0x00, 0x06, b'G', b'S', b'S', b'A', b'P', b'I', // [0]: STRING of 6
            0x00, 0x05, b'P', b'L', b'A', b'I', b'N', // [1]: STRING of 5
        ];
        assert_encodes_to(&response, 0, bytes);
        assert!(response.offers("PLAIN"));
        assert!(!response.offers("plain"), "compared exactly");
        assert!(!response.offers("SCRAM-SHA-256"));
    }

    #[test]
    fn an_empty_mechanism_list_is_an_empty_array() {
        let bytes: &[u8] = &[
            0x00, 0x00, // error_code: 0
            0x00, 0x00, 0x00, 0x00, // mechanisms: ARRAY of 0
        ];
        assert_encodes_to(&SaslHandshakeResponse::default(), 1, bytes);
    }

    #[test]
    fn a_null_mechanism_list_or_mechanism_is_refused() {
        // mechanisms: ARRAY of -1 (null), which the schema does not allow.
        let null_array = Bytes::from_static(&[0x00, 0x00, 0xff, 0xff, 0xff, 0xff]);
        assert!(crate::api::decode_exact::<SaslHandshakeResponse>(null_array, 1).is_err());
        // mechanism: STRING of -1 (null).
        let null_string = Bytes::from_static(&[0xff, 0xff]);
        assert_eq!(
            crate::api::decode_exact::<SaslHandshakeRequest>(null_string, 1),
            Err(DecodeError::UnexpectedNull("string"))
        );
    }

    #[test]
    fn only_v1_moves_the_tokens_into_sasl_authenticate() {
        assert!(!tokens_in_sasl_authenticate(0));
        assert!(tokens_in_sasl_authenticate(1));
        for version in SaslHandshakeRequest::VERSIONS.iter() {
            assert!(!SaslHandshakeRequest::is_flexible(version));
            assert_eq!(SaslHandshakeRequest::request_header_version(version), 1);
            assert_eq!(SaslHandshakeRequest::response_header_version(version), 0);
        }
    }

    fn request() -> impl Strategy<Value = SaslHandshakeRequest> {
        prop_oneof![
            Just("PLAIN".to_owned()),
            Just("SCRAM-SHA-256".to_owned()),
            Just("SCRAM-SHA-512".to_owned()),
            name(),
        ]
        .prop_map(SaslHandshakeRequest::new)
    }

    fn response() -> impl Strategy<Value = SaslHandshakeResponse> {
        (any::<i16>(), proptest::collection::vec(name(), 0..5)).prop_map(
            |(error_code, mechanisms)| SaslHandshakeResponse {
                error_code,
                mechanisms,
            },
        )
    }

    message_tests! {
        request: SaslHandshakeRequest = |_| request(),
        response: SaslHandshakeResponse = |_| response(),
        random_input_len: 48,
    }
}
