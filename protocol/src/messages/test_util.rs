//! What the message tests share (test builds only).
//!
//! - [`message_tests!`](crate::messages::test_util::message_tests) writes the property tests
//!   every message has, from one strategy per side: round trips in every version (with the
//!   truncation and trailing-bytes checks of [`assert_round_trip`]), versions outside the
//!   range refused both ways, and decoders that never panic on random or corrupted input.
//! - [`assert_encodes_to`] checks hand-written or captured bytes both ways, with the same
//!   truncation and trailing-bytes checks.
//! - [`golden_exchange`] decodes a captured request and response (frames from a real broker
//!   and the Java client, `tests/golden/`) and checks that both encode back to the same
//!   bytes.
//! - [`assert_not_ignorable`] checks a field that some versions cannot carry, in every
//!   version.
//! - [`encode`], [`encode_err`] and [`over_the_wire`] are the one-liners the other tests are
//!   written with; [`versions`], [`versioned`], [`since`] and [`name`] build strategies.
//!
//! # References
//! - `test_roundtrip_versioned!` in influxdata/rskafka `src/protocol/messages/test_utils.rs`,
//!   the model for [`message_tests!`](crate::messages::test_util::message_tests)
//! - proptest: <https://docs.rs/proptest>

use std::fmt::Debug;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use crate::api::{decode_exact, Decode, Encode, Request, VersionRange};
use crate::error::{DecodeError, EncodeError};

/// Decodes a captured request frame and its response frame (each without its 4-byte size
/// prefix) of `R` in `version`, checks the request header names `R` and `version`, that each
/// encodes back to exactly the captured bytes and that every truncation fails, and returns
/// both messages for the caller's field checks.
pub(crate) fn golden_exchange<R>(
    request_frame: &'static [u8],
    response_frame: &'static [u8],
    version: i16,
) -> (R, R::Response)
where
    R: Request + Encode + Decode + Debug,
    R::Response: Encode + Decode + Debug,
{
    let flexible = R::is_flexible(version);
    let mut frame = Bytes::from_static(request_frame);
    let header =
        crate::header::RequestHeader::decode(&mut frame, if flexible { 2 } else { 1 }).unwrap();
    assert_eq!(header.api_key, R::API_KEY.code());
    assert_eq!(header.api_version, version);
    let request: R = decode_exact(frame.clone(), version).unwrap();
    assert_eq!(
        encode(&request, version),
        frame.to_vec(),
        "request v{version}"
    );
    assert_truncations_fail::<R>(&frame, version);
    let mut frame = Bytes::from_static(response_frame);
    crate::header::ResponseHeader::decode(&mut frame, if flexible { 1 } else { 0 }).unwrap();
    let response: R::Response = decode_exact(frame.clone(), version).unwrap();
    assert_eq!(
        encode(&response, version),
        frame.to_vec(),
        "response v{version}"
    );
    assert_truncations_fail::<R::Response>(&frame, version);
    (request, response)
}

/// Encodes `value` in `version`; panics when that fails.
pub(crate) fn encode<T: Encode>(value: &T, version: i16) -> Vec<u8> {
    let mut buf = BytesMut::new();
    value
        .encode(&mut buf, version)
        .unwrap_or_else(|e| panic!("encode v{version} failed: {e}"));
    buf.to_vec()
}

/// The error encoding `value` in `version` gives; panics when it succeeds, or when it wrote
/// anything before failing.
pub(crate) fn encode_err<T: Encode + Debug>(value: &T, version: i16) -> EncodeError {
    let mut buf = BytesMut::new();
    let err = match value.encode(&mut buf, version) {
        Ok(()) => panic!("v{version} encoded: {value:?}"),
        Err(err) => err,
    };
    assert!(buf.is_empty(), "nothing written on error");
    err
}

/// What a peer decodes from `value` sent in `version`: fields the version cannot carry come
/// back as their defaults. Panics when encoding or decoding fails.
pub(crate) fn over_the_wire<T: Encode + Decode>(value: &T, version: i16) -> T {
    decode_exact(Bytes::from(encode(value, version)), version)
        .unwrap_or_else(|e| panic!("decode v{version} failed: {e}"))
}

/// Encodes `value` in `version`, checks that decoding gives it back and uses every byte, that
/// every proper prefix of the encoding fails to decode ([`assert_truncations_fail`]) and that
/// a byte more is refused ([`assert_trailing_bytes_fail`]). Returns the encoding.
pub(crate) fn assert_round_trip<T>(value: &T, version: i16) -> Bytes
where
    T: Encode + Decode + PartialEq + Debug,
{
    let bytes = Bytes::from(encode(value, version));
    let decoded: T = decode_exact(bytes.clone(), version)
        .unwrap_or_else(|e| panic!("decode v{version} failed: {e}"));
    assert_eq!(&decoded, value, "round trip at v{version}");
    assert_truncations_fail::<T>(&bytes, version);
    assert_trailing_bytes_fail::<T>(&bytes, version);
    bytes
}

/// Checks bytes written by hand or captured from Kafka: `value` encodes in `version` to
/// exactly `bytes`, and `bytes` decode to `value`, with the truncation and trailing-bytes
/// checks of [`assert_round_trip`].
pub(crate) fn assert_encodes_to<T>(value: &T, version: i16, bytes: &[u8])
where
    T: Encode + Decode + PartialEq + Debug,
{
    assert_eq!(encode(value, version), bytes, "encode v{version}");
    let bytes = Bytes::copy_from_slice(bytes);
    let decoded: T = decode_exact(bytes.clone(), version)
        .unwrap_or_else(|e| panic!("decode v{version} failed: {e}"));
    assert_eq!(&decoded, value, "decode v{version}");
    assert_truncations_fail::<T>(&bytes, version);
    assert_trailing_bytes_fail::<T>(&bytes, version);
}

/// Every proper prefix of `bytes` must fail to decode as a whole message.
pub(crate) fn assert_truncations_fail<T: Decode + Debug>(bytes: &Bytes, version: i16) {
    for n in 0..bytes.len() {
        let result = decode_exact::<T>(bytes.slice(..n), version);
        assert!(
            result.is_err(),
            "prefix of {n}/{} bytes decoded at v{version}: {result:?}",
            bytes.len()
        );
    }
}

/// `bytes` (one whole message) followed by one more byte must fail with
/// [`DecodeError::TrailingBytes`].
pub(crate) fn assert_trailing_bytes_fail<T: Decode + Debug>(bytes: &Bytes, version: i16) {
    let mut longer = bytes.to_vec();
    longer.push(0);
    let result = decode_exact::<T>(Bytes::from(longer), version);
    assert!(
        matches!(result, Err(DecodeError::TrailingBytes(1))),
        "v{version} with a trailing byte: {result:?}"
    );
}

/// Checks a value that sets a field the schema does not mark ignorable, in every version of
/// `versions`: where `carried(version)` it round trips ([`assert_round_trip`]), elsewhere
/// encoding fails with `FieldNotAvailable` naming `field`, before anything is written.
pub(crate) fn assert_not_ignorable<T>(
    value: &T,
    versions: VersionRange,
    field: &str,
    carried: impl Fn(i16) -> bool,
) where
    T: Encode + Decode + PartialEq + Debug,
{
    for version in versions.iter() {
        if carried(version) {
            assert_round_trip(value, version);
        } else {
            match encode_err(value, version) {
                EncodeError::FieldNotAvailable {
                    field: f,
                    version: v,
                } if f == field && v == version => {}
                other => panic!("v{version}: {other:?}, expected {field} not available"),
            }
        }
    }
}

/// Versions outside `R::VERSIONS` (the ones next to the range, -1, 0 and the extremes) are
/// refused with `UnsupportedVersion` by the encoders and decoders of `R` and its response,
/// and nothing is written.
pub(crate) fn assert_versions_outside_refused<R>(request: &R, response: &R::Response)
where
    R: Request + Decode + Debug,
    R::Response: Encode + Debug,
{
    let api_key = R::API_KEY.code();
    let VersionRange { min, max } = R::VERSIONS;
    let versions = [
        i16::MIN,
        -1,
        0,
        min.saturating_sub(1),
        max.saturating_add(1),
        i16::MAX,
    ];
    for version in versions.into_iter().filter(|v| !R::VERSIONS.contains(*v)) {
        let encode_error = EncodeError::UnsupportedVersion { api_key, version };
        let decode_error = DecodeError::UnsupportedVersion { api_key, version };
        let mut buf = BytesMut::new();
        assert_eq!(request.encode(&mut buf, version), Err(encode_error.clone()));
        assert_eq!(response.encode(&mut buf, version), Err(encode_error));
        assert!(buf.is_empty(), "v{version}: nothing written");
        assert_eq!(
            decode_exact::<R>(Bytes::new(), version).unwrap_err(),
            decode_error
        );
        assert_eq!(
            decode_exact::<R::Response>(Bytes::new(), version).unwrap_err(),
            decode_error
        );
    }
}

/// `bytes` with the byte at `position` replaced by `byte` (nothing changes in empty input).
pub(crate) fn corrupt(mut bytes: Vec<u8>, position: prop::sample::Index, byte: u8) -> Bytes {
    if !bytes.is_empty() {
        let i = position.index(bytes.len());
        bytes[i] = byte;
    }
    Bytes::from(bytes)
}

// ---------------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------------

/// Any version of `versions`.
pub(crate) fn versions(versions: VersionRange) -> impl Strategy<Value = i16> {
    versions.min..=versions.max
}

/// A version of `versions` with a value for it: `strategy_for(version)` gives the values a
/// version can carry (fields it has not got at their defaults).
pub(crate) fn versioned<S: Strategy>(
    versions: VersionRange,
    strategy_for: impl Fn(i16) -> S,
) -> impl Strategy<Value = (i16, S::Value)> {
    self::versions(versions).prop_flat_map(move |version| (Just(version), strategy_for(version)))
}

/// Versions for the decoders to refuse or accept: those of `versions`, the one on either
/// side, and now and then any `i16`.
pub(crate) fn nearby_versions(versions: VersionRange) -> impl Strategy<Value = i16> {
    prop_oneof![
        4 => versions.min.saturating_sub(1)..=versions.max.saturating_add(1),
        1 => any::<i16>(),
    ]
}

/// `strategy` for a field the version carries (`present`), otherwise always `default`.
pub(crate) fn since<T: Debug + Clone + 'static>(
    present: bool,
    strategy: impl Strategy<Value = T> + 'static,
    default: T,
) -> BoxedStrategy<T> {
    if present {
        strategy.boxed()
    } else {
        Just(default).boxed()
    }
}

/// A short name (topic, host, transactional id, client software...): up to 12 letters,
/// digits, `.`, `_` and `-`.
pub(crate) fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9._-]{0,12}"
}

// ---------------------------------------------------------------------------------------
// The property tests every message has
// ---------------------------------------------------------------------------------------

/// The property tests every message has, in its `tests` module:
///
/// ```text
/// message_tests! {
///     request: EndTxnRequest = request_for,        // fn(i16) -> impl Strategy<Value = EndTxnRequest>
///     response: EndTxnResponse = |_| response(),   // likewise; the response type of the request
///     random_input_len: 48,                        // optional (64): longest random input
/// }
/// ```
///
/// Each strategy gives, for a version, the values that version can carry: a field the
/// version has not got stays at its default (see [`since`]). The tests:
///
/// - `request_round_trip`, `response_round_trip`: [`assert_round_trip`] in every version of
///   the request's `VERSIONS` (decode gives the value back, every prefix fails, a trailing
///   byte fails);
/// - `versions_outside_the_range_are_refused`: [`assert_versions_outside_refused`];
/// - `decoding_random_bytes_never_panics`: both decoders on random bytes, in versions in and
///   around the range;
/// - `decoding_corrupted_messages_never_panics`: both decoders on a valid request and a
///   valid response with one byte replaced.
macro_rules! message_tests {
    (
        request: $request:ty = $request_for:expr,
        response: $response:ty = $response_for:expr $(,)?
    ) => {
        $crate::messages::test_util::message_tests! {
            request: $request = $request_for,
            response: $response = $response_for,
            random_input_len: 64,
        }
    };
    (
        request: $request:ty = $request_for:expr,
        response: $response:ty = $response_for:expr,
        random_input_len: $random_input_len:expr $(,)?
    ) => {
        ::proptest::proptest! {
            #[test]
            fn request_round_trip(
                (version, request) in $crate::messages::test_util::versioned(
                    <$request as $crate::Request>::VERSIONS,
                    $request_for,
                ),
            ) {
                $crate::messages::test_util::assert_round_trip::<$request>(&request, version);
            }

            #[test]
            fn response_round_trip(
                (version, response) in $crate::messages::test_util::versioned(
                    <$request as $crate::Request>::VERSIONS,
                    $response_for,
                ),
            ) {
                $crate::messages::test_util::assert_round_trip::<$response>(&response, version);
            }

            #[test]
            fn versions_outside_the_range_are_refused(
                (_, (request, response)) in $crate::messages::test_util::versioned(
                    <$request as $crate::Request>::VERSIONS,
                    |version| (($request_for)(version), ($response_for)(version)),
                ),
            ) {
                $crate::messages::test_util::assert_versions_outside_refused::<$request>(
                    &request,
                    &response,
                );
            }

            #[test]
            fn decoding_random_bytes_never_panics(
                data in ::proptest::collection::vec(
                    ::proptest::prelude::any::<u8>(),
                    0..$random_input_len,
                ),
                version in $crate::messages::test_util::nearby_versions(
                    <$request as $crate::Request>::VERSIONS,
                ),
            ) {
                let data = ::bytes::Bytes::from(data);
                let _ = $crate::api::decode_exact::<$request>(data.clone(), version);
                let _ = $crate::api::decode_exact::<$response>(data, version);
            }

            #[test]
            fn decoding_corrupted_messages_never_panics(
                (version, (request, response)) in $crate::messages::test_util::versioned(
                    <$request as $crate::Request>::VERSIONS,
                    |version| (($request_for)(version), ($response_for)(version)),
                ),
                position: ::proptest::sample::Index,
                byte: u8,
            ) {
                use $crate::messages::test_util::{corrupt, encode};
                for bytes in [encode(&request, version), encode(&response, version)] {
                    let bytes = corrupt(bytes, position, byte);
                    let _ = $crate::api::decode_exact::<$request>(bytes.clone(), version);
                    let _ = $crate::api::decode_exact::<$response>(bytes, version);
                }
            }
        }
    };
}
pub(crate) use message_tests;

mod tests {
    // The helpers catch the mistakes they are there for, on a toy message: an `INT16` in
    // v0, a nullable string after it from v1 (flexible from v1).

    use bytes::BufMut;

    use super::*;
    use crate::api::{check_decode_version, check_encode_version, ApiKey};
    use crate::messages::common::{put_tags, skip_tags};
    use crate::primitives::{get_i16, get_nullable_string, put_nullable_string};

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Toy {
        number: i16,
        text: Option<String>,
    }

    impl Encode for Toy {
        fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError> {
            check_encode_version::<Self>(version)?;
            crate::messages::common::check_field(
                "text",
                version,
                version >= 1,
                self.text.is_none(),
            )?;
            buf.put_i16(self.number);
            if version >= 1 {
                put_nullable_string(buf, self.text.as_deref(), true)?;
            }
            put_tags(buf, Self::is_flexible(version));
            Ok(())
        }
    }

    impl Decode for Toy {
        fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError> {
            check_decode_version::<Self>(version)?;
            let number = get_i16(buf)?;
            let text = if version >= 1 {
                get_nullable_string(buf, true)?
            } else {
                None
            };
            skip_tags(buf, Self::is_flexible(version))?;
            Ok(Self { number, text })
        }
    }

    impl Request for Toy {
        const API_KEY: ApiKey = ApiKey::ApiVersions;
        const VERSIONS: VersionRange = VersionRange::new(0, 1);
        const FIRST_FLEXIBLE_VERSION: i16 = 1;
        type Response = Self;
    }

    fn toy_for(version: i16) -> impl Strategy<Value = Toy> {
        (
            any::<i16>(),
            since(version >= 1, proptest::option::of(name()), None),
        )
            .prop_map(|(number, text)| Toy { number, text })
    }

    message_tests! {
        request: Toy = toy_for,
        response: Toy = toy_for,
        random_input_len: 8,
    }

    #[test]
    fn toy_bytes() {
        let toy = Toy {
            number: 7,
            text: Some("a".into()),
        };
        assert_encodes_to(&toy, 1, &[0x00, 0x07, 0x02, b'a', 0x00]);
        assert_not_ignorable(&toy, Toy::VERSIONS, "text", |v| v >= 1);
        let plain = Toy { text: None, ..toy };
        assert_eq!(over_the_wire(&plain, 0), plain);
    }

    #[test]
    #[should_panic(expected = "encode v1")]
    fn wrong_bytes_are_caught() {
        let toy = Toy {
            number: 7,
            text: None,
        };
        assert_encodes_to(&toy, 1, &[0x00, 0x07, 0x00]);
    }

    #[test]
    #[should_panic(expected = "expected other not available")]
    fn a_field_check_naming_another_field_is_caught() {
        let toy = Toy {
            number: 7,
            text: Some("a".into()),
        };
        assert_not_ignorable(&toy, Toy::VERSIONS, "other", |v| v >= 1);
    }

    /// A decoder that accepts a prefix (here: reads no tag buffer, so the last byte of a v1
    /// message is left over and a prefix without it decodes).
    #[derive(Debug, PartialEq)]
    struct Lenient(i16);

    impl Decode for Lenient {
        fn decode(buf: &mut Bytes, _version: i16) -> Result<Self, DecodeError> {
            let number = get_i16(buf)?;
            let _ = get_nullable_string(buf, true)?;
            Ok(Self(number))
        }
    }

    #[test]
    #[should_panic(expected = "prefix of 3/4 bytes decoded")]
    fn a_decoder_that_accepts_a_prefix_is_caught() {
        assert_truncations_fail::<Lenient>(&Bytes::from_static(&[0x00, 0x07, 0x00, 0x00]), 1);
    }

    /// A decoder that swallows whatever follows.
    #[derive(Debug, PartialEq)]
    struct Greedy;

    impl Decode for Greedy {
        fn decode(buf: &mut Bytes, _version: i16) -> Result<Self, DecodeError> {
            let _ = std::mem::take(buf);
            Ok(Self)
        }
    }

    #[test]
    #[should_panic(expected = "with a trailing byte")]
    fn a_decoder_that_swallows_trailing_bytes_is_caught() {
        assert_trailing_bytes_fail::<Greedy>(&Bytes::from_static(&[0x01]), 0);
    }
}
