//! SaslAuthenticate (API key 36), versions 0 to 2: one round of a SASL exchange, after a
//! SaslHandshake v1 ([`crate::messages::sasl_handshake`]). The request carries the client's
//! next token for the chosen mechanism, the response the broker's next token, or an error.
//!
//! Wire layout (flexible from v2):
//!
//! ```text
//! request   auth_bytes BYTES (COMPACT_BYTES in v2), TAG_BUFFER (v2+)
//! response  error_code INT16, error_message NULLABLE_STRING (COMPACT_ in v2),
//!           auth_bytes BYTES (COMPACT_BYTES in v2), session_lifetime_ms INT64 (v1+),
//!           TAG_BUFFER (v2+)
//! ```
//!
//! v1 added `session_lifetime_ms` to the response (KIP-368: the broker tells the client how
//! long the session lasts, 0 for no limit; the client re-authenticates on the same
//! connection before it ends). v2 is the flexible form of v1.
//!
//! How many rounds an exchange takes depends on the mechanism: `PLAIN` sends
//! `authzid NUL authcid NUL password` once and gets empty `auth_bytes` back; `SCRAM-SHA-256`
//! and `SCRAM-SHA-512` take two rounds (client-first / server-first, client-final /
//! server-final). A failed exchange is answered with `SASL_AUTHENTICATION_FAILED` (58) and an
//! `error_message`; the broker closes the connection after that.
//!
//! What a Kafka 4.1.1 broker sent in the captures of `tests/golden/` (kafka-clients 4.0.1,
//! SaslAuthenticate v2): on success `error_message` is the empty string, not null, although
//! the schema describes null; `session_lifetime_ms` is 0 in the SCRAM challenge and the
//! listener's `connections.max.reauth.ms` in the answer that completes the exchange.
//!
//! The `auth_bytes` of a request hold credentials (a `PLAIN` password in clear), so the
//! [`Debug`](std::fmt::Debug) output of both structs shows only their length.
//!
//! # References
//! - `SaslAuthenticateRequest.json`, `SaslAuthenticateResponse.json` in apache/kafka
//!   `clients/src/main/resources/common/message/`
//! - KIP-152 (SaslAuthenticate, error codes and messages for failed authentication)
//! - KIP-368 (re-authentication, `session_lifetime_ms`)
//! - KIP-482 (flexible versions)
//! - KIP-43 (the SASL exchange in Kafka); RFC 4616 (PLAIN), RFC 5802 and RFC 7677 (SCRAM)

use std::fmt;

use bytes::{BufMut, Bytes};

use crate::api::{
    check_decode_version, check_encode_version, ApiKey, Decode, Encode, Request, VersionRange,
};
use crate::error::{DecodeError, EncodeError};
use crate::messages::common::{put_tags, skip_tags};
use crate::primitives::{
    get_bytes, get_i16, get_i64, get_nullable_string, put_bytes, put_nullable_string,
};

/// The first flexible version of SaslAuthenticate.
const FIRST_FLEXIBLE: i16 = 2;

/// The version that added `session_lifetime_ms` to the response.
const SESSION_LIFETIME: i16 = 1;

/// How [`Debug`](fmt::Debug) shows `auth_bytes`: their length, never their content.
struct Redacted(usize);

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} bytes>", self.0)
    }
}

/// The SaslAuthenticate request. Its one field exists in every version.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SaslAuthenticateRequest {
    /// The client's next token for the mechanism (may be empty, never null).
    pub auth_bytes: Bytes,
}

impl SaslAuthenticateRequest {
    /// A request carrying `auth_bytes`.
    pub fn new(auth_bytes: impl Into<Bytes>) -> Self {
        Self {
            auth_bytes: auth_bytes.into(),
        }
    }
}

impl fmt::Debug for SaslAuthenticateRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticateRequest")
            .field("auth_bytes", &Redacted(self.auth_bytes.len()))
            .finish()
    }
}

impl Encode for SaslAuthenticateRequest {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        put_bytes(buf, &self.auth_bytes, flexible)?;
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for SaslAuthenticateRequest {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<Self>(version)?;
        let flexible = Self::is_flexible(version);
        let auth_bytes = get_bytes(buf, flexible)?;
        skip_tags(buf, flexible)?;
        Ok(Self { auth_bytes })
    }
}

impl Request for SaslAuthenticateRequest {
    const API_KEY: ApiKey = ApiKey::SaslAuthenticate;
    const VERSIONS: VersionRange = VersionRange::new(0, 2);
    const FIRST_FLEXIBLE_VERSION: i16 = FIRST_FLEXIBLE;
    type Response = SaslAuthenticateResponse;
}

/// The SaslAuthenticate response.
///
/// `session_lifetime_ms` is ignorable in Kafka's schema: it is left out below v1, whatever it
/// holds, and decodes as 0 there.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SaslAuthenticateResponse {
    /// The error code, 0 on success; `SASL_AUTHENTICATION_FAILED` (58) when the credentials
    /// were refused.
    pub error_code: i16,
    /// The broker's explanation of the error, `None` when there is none.
    pub error_message: Option<String>,
    /// The broker's next token for the mechanism (empty when it has none, never null).
    pub auth_bytes: Bytes,
    /// How long the authenticated session lasts, in milliseconds; 0 (the default, and all a
    /// v0 response can say) for no limit (v1+).
    pub session_lifetime_ms: i64,
}

impl fmt::Debug for SaslAuthenticateResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslAuthenticateResponse")
            .field("error_code", &self.error_code)
            .field("error_message", &self.error_message)
            .field("auth_bytes", &Redacted(self.auth_bytes.len()))
            .field("session_lifetime_ms", &self.session_lifetime_ms)
            .finish()
    }
}

impl Encode for SaslAuthenticateResponse {
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
        check_encode_version::<SaslAuthenticateRequest>(version)?;
        let flexible = SaslAuthenticateRequest::is_flexible(version);
        buf.put_i16(self.error_code);
        put_nullable_string(buf, self.error_message.as_deref(), flexible)?;
        put_bytes(buf, &self.auth_bytes, flexible)?;
        if version >= SESSION_LIFETIME {
            buf.put_i64(self.session_lifetime_ms);
        }
        put_tags(buf, flexible);
        Ok(())
    }
}

impl Decode for SaslAuthenticateResponse {
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
        check_decode_version::<SaslAuthenticateRequest>(version)?;
        let flexible = SaslAuthenticateRequest::is_flexible(version);
        let error_code = get_i16(buf)?;
        let error_message = get_nullable_string(buf, flexible)?;
        let auth_bytes = get_bytes(buf, flexible)?;
        let session_lifetime_ms = if version >= SESSION_LIFETIME {
            get_i64(buf)?
        } else {
            0
        };
        skip_tags(buf, flexible)?;
        Ok(Self {
            error_code,
            error_message,
            auth_bytes,
            session_lifetime_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::decode_exact;
    use crate::messages::test_util::{
        assert_encodes_to, encode, message_tests, over_the_wire, since,
    };
    use crate::ErrorCode;
    use proptest::prelude::*;

    #[test]
    fn v0_plain_request_bytes() {
        let request = SaslAuthenticateRequest::new(&b"\0alice\0pw"[..]);
        let bytes: &[u8] = &[
            0x00, 0x00, 0x00, 0x09, // auth_bytes: BYTES of 9
            0x00, b'a', b'l', b'i', b'c', b'e', 0x00, b'p', b'w', // NUL authcid NUL password
        ];
        assert_encodes_to(&request, 0, bytes);
        assert_encodes_to(&request, 1, bytes);
    }

    // Frames captured from Kafka 4.1.1 and kafka-clients 4.0.1 (`tests/golden/`, throwaway
    // test passwords). A v2 request's header v2 takes 22 bytes (api key, version, correlation
    // id, client id `kiel-golden`, empty tag buffer), a v2 response's header v1 takes 5
    // (correlation id, empty tag buffer).
    const PLAIN_REQUEST: &[u8] =
        include_bytes!("../../tests/golden/sasl-plain/c1-04-sasl_authenticate-v2-request.bin");
    const PLAIN_RESPONSE: &[u8] =
        include_bytes!("../../tests/golden/sasl-plain/c1-05-sasl_authenticate-v2-response.bin");

    #[test]
    fn v2_plain_request_bytes_captured_from_the_java_client() {
        let token = b"\0golden\0golden-plain-test-password";
        let bytes = [
            &[0x23][..], // auth_bytes: COMPACT_BYTES of 34 (length + 1)
            token,       // RFC 4616: empty authzid NUL authcid NUL password
            &[0x00],     // TAG_BUFFER: no tagged fields
        ]
        .concat();
        assert_eq!(&PLAIN_REQUEST[22..], &bytes[..]);
        assert_encodes_to(&SaslAuthenticateRequest::new(&token[..]), 2, &bytes);
    }

    #[test]
    fn v2_plain_response_bytes_captured_from_kafka() {
        let response = SaslAuthenticateResponse {
            error_code: 0,
            error_message: Some(String::new()),
            auth_bytes: Bytes::new(),
            session_lifetime_ms: 3_600_000,
        };
        let bytes: &[u8] = &[
            0x00, 0x00, // error_code: 0
            0x01, // error_message: COMPACT_NULLABLE_STRING of 0 (empty, not null)
            0x01, // auth_bytes: COMPACT_BYTES of 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x36, 0xee, 0x80, // session_lifetime_ms: 3600000
            0x00, // TAG_BUFFER: no tagged fields
        ];
        assert_eq!(&PLAIN_RESPONSE[5..], bytes);
        assert_encodes_to(&response, 2, bytes);
    }

    /// The two rounds of a SCRAM-SHA-256 exchange as captured in
    /// `tests/golden/sasl-scram-sha-256/c1-04` to `c1-07` (bodies only: the nonces differ in
    /// every capture, so the bytes are copied here rather than read from the files).
    #[test]
    fn v2_scram_bytes_captured_from_kafka_and_the_java_client() {
        let client_first = b"n,,n=golden,r=oml5ee9mbvy9qsjhk9fuwuckk";
        let bytes = [
            &[0x28][..],  // auth_bytes: COMPACT_BYTES of 39
            client_first, // gs2 header, user name, client nonce
            &[0x00],      // TAG_BUFFER: no tagged fields
        ]
        .concat();
        assert_encodes_to(&SaslAuthenticateRequest::new(&client_first[..]), 2, &bytes);

        let server_first: &[u8] = b"r=oml5ee9mbvy9qsjhk9fuwuckk12pafc0d54not2zvffux0mqsg5,\
            s=cTB6bDJlM29lMWI2ZHFoeWdyYTV0bGNwNw==,i=4096";
        let challenge = SaslAuthenticateResponse {
            error_code: 0,
            error_message: Some(String::new()),
            auth_bytes: Bytes::copy_from_slice(server_first),
            session_lifetime_ms: 0,
        };
        let bytes = [
            &[0x00, 0x00][..], // error_code: 0
            &[0x01],           // error_message: COMPACT_NULLABLE_STRING of 0
            &[0x64],           // auth_bytes: COMPACT_BYTES of 99
            server_first,      // combined nonce, salt, iteration count
            &[0; 8],           // session_lifetime_ms: 0 (the exchange is not over)
            &[0x00],           // TAG_BUFFER: no tagged fields
        ]
        .concat();
        assert_encodes_to(&challenge, 2, &bytes);

        let client_final: &[u8] = b"c=biws,r=oml5ee9mbvy9qsjhk9fuwuckk12pafc0d54not2zvffux0mqsg5,\
            p=pRYbWNFqIy5lDjX53luiiZl+aq8FLR+v+IR82sKcpjk=";
        let bytes = [
            &[0x6c][..],  // auth_bytes: COMPACT_BYTES of 107
            client_final, // channel binding, nonce, client proof
            &[0x00],      // TAG_BUFFER: no tagged fields
        ]
        .concat();
        assert_encodes_to(&SaslAuthenticateRequest::new(client_final), 2, &bytes);

        let server_final: &[u8] = b"v=vPo80jevRp5BKr3puVPQnnJMcDoleHd8/OtBTTiSuwo=";
        let outcome = SaslAuthenticateResponse {
            auth_bytes: Bytes::copy_from_slice(server_final),
            session_lifetime_ms: 3_600_000,
            ..challenge
        };
        let bytes = [
            &[0x00, 0x00][..],                                 // error_code: 0
            &[0x01],                                           // error_message: empty
            &[0x2f],                                           // auth_bytes: COMPACT_BYTES of 46
            server_final,                                      // server signature
            &[0x00, 0x00, 0x00, 0x00, 0x00, 0x36, 0xee, 0x80], // session_lifetime_ms: 3600000
            &[0x00],                                           // TAG_BUFFER: no tagged fields
        ]
        .concat();
        assert_encodes_to(&outcome, 2, &bytes);
    }

    #[test]
    fn empty_auth_bytes_are_not_null() {
        let empty = SaslAuthenticateRequest::default();
        assert_encodes_to(&empty, 0, &[0x00, 0x00, 0x00, 0x00]); // BYTES of 0
        assert_encodes_to(&empty, 2, &[0x01, 0x00]); // COMPACT_BYTES of 0, TAG_BUFFER

        // Null (-1, or 0 in the compact form) is not allowed by the schema.
        let null_classic = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff]);
        let null_compact = Bytes::from_static(&[0x00, 0x00]);
        for (bytes, version) in [(null_classic, 1), (null_compact, 2)] {
            assert_eq!(
                decode_exact::<SaslAuthenticateRequest>(bytes, version),
                Err(DecodeError::UnexpectedNull("bytes"))
            );
        }
    }

    #[test]
    fn v0_failure_response_bytes() {
        let response = SaslAuthenticateResponse {
            error_code: ErrorCode::SaslAuthenticationFailed.code(),
            error_message: Some("bad".into()),
            ..SaslAuthenticateResponse::default()
        };
        let bytes: &[u8] = &[
            0x00, 0x3a, // error_code: 58 SASL_AUTHENTICATION_FAILED
            0x00, 0x03, b'b', b'a', b'd', // error_message: NULLABLE_STRING of 3
            0x00, 0x00, 0x00, 0x00, // auth_bytes: BYTES of 0
        ];
        assert_encodes_to(&response, 0, bytes);
    }

    #[test]
    fn v1_response_bytes() {
        let response = SaslAuthenticateResponse {
            error_code: 0,
            error_message: None,
            auth_bytes: Bytes::from_static(b"v=xyz"),
            session_lifetime_ms: 3_600_000,
        };
        let bytes: &[u8] = &[
            0x00, 0x00, // error_code: 0
            0xff, 0xff, // error_message: NULLABLE_STRING, null
            0x00, 0x00, 0x00, 0x05, b'v', b'=', b'x', b'y', b'z', // auth_bytes: BYTES of 5
            0x00, 0x00, 0x00, 0x00, 0x00, 0x36, 0xee, 0x80, // session_lifetime_ms: 3600000
        ];
        assert_encodes_to(&response, 1, bytes);
    }

    #[test]
    fn v2_response_bytes() {
        let response = SaslAuthenticateResponse {
            error_code: 0,
            error_message: Some(String::new()),
            auth_bytes: Bytes::new(),
            session_lifetime_ms: 0,
        };
        let bytes: &[u8] = &[
            0x00, 0x00, // error_code: 0
            0x01, // error_message: COMPACT_NULLABLE_STRING of 0 (empty, not null)
            0x01, // auth_bytes: COMPACT_BYTES of 0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // session_lifetime_ms: 0
            0x00, // TAG_BUFFER: no tagged fields
        ];
        assert_encodes_to(&response, 2, bytes);
    }

    #[test]
    fn session_lifetime_is_ignorable_below_v1() {
        let response = SaslAuthenticateResponse {
            session_lifetime_ms: 60_000,
            ..SaslAuthenticateResponse::default()
        };
        // Left out of v0, so it comes back as its default.
        assert_eq!(
            over_the_wire(&response, 0),
            SaslAuthenticateResponse::default()
        );
        assert_eq!(over_the_wire(&response, 1), response);
        assert_eq!(over_the_wire(&response, 2), response);
        assert_eq!(encode(&response, 1).len(), encode(&response, 0).len() + 8);
    }

    #[test]
    fn debug_hides_the_auth_bytes() {
        let request = SaslAuthenticateRequest::new(&b"\0alice\0secret-password"[..]);
        let shown = format!("{request:?}");
        assert_eq!(shown, "SaslAuthenticateRequest { auth_bytes: <22 bytes> }");
        let response = SaslAuthenticateResponse {
            auth_bytes: Bytes::from_static(b"r=nonce,s=salt,i=4096"),
            ..SaslAuthenticateResponse::default()
        };
        let shown = format!("{response:?}");
        assert!(shown.contains("auth_bytes: <21 bytes>"), "{shown}");
        assert!(!shown.contains("nonce"), "{shown}");
    }

    fn auth_bytes() -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..48).prop_map(Bytes::from)
    }

    fn response_for(version: i16) -> impl Strategy<Value = SaslAuthenticateResponse> {
        (
            any::<i16>(),
            proptest::option::of("[ -~]{0,24}"),
            auth_bytes(),
            since(version >= SESSION_LIFETIME, any::<i64>(), 0),
        )
            .prop_map(
                |(error_code, error_message, auth_bytes, session_lifetime_ms)| {
                    SaslAuthenticateResponse {
                        error_code,
                        error_message,
                        auth_bytes,
                        session_lifetime_ms,
                    }
                },
            )
    }

    message_tests! {
        request: SaslAuthenticateRequest = |_| auth_bytes().prop_map(SaslAuthenticateRequest::new),
        response: SaslAuthenticateResponse = response_for,
    }
}
