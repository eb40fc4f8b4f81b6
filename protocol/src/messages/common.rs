//! What the message codecs share beyond [`crate::primitives`]: the parts of a body that
//! depend on whether the version is flexible, the smallest sizes the decoders use to bound
//! arrays, tagged fields with known tags, and the check for fields a version cannot carry.
//!
//! Every helper takes the `flexible` flag rather than a version, like the primitives: each
//! struct's encoder and decoder computes it once with
//! [`Request::is_flexible`](crate::Request::is_flexible) of its message (which compares with
//! the message's `FIRST_FLEXIBLE_VERSION`).
//!
//! - A flexible version ends every struct, nested ones included, with a `TAG_BUFFER`:
//!   [`put_tags`] writes an empty one and [`skip_tags`] reads one and drops what it holds;
//!   neither does anything in a classic version.
//! - Decoders size a `Vec` from a count read off the wire only after
//!   [`get_array`](crate::primitives::get_array) has checked that the input left can hold
//!   that many elements of the smallest size; [`min_string_len`], [`min_array_len`] and
//!   [`tags_len`] are the pieces a struct's smallest size is added up from.
//! - A tagged field the codec knows is a struct of its own inside the tag buffer:
//!   [`tagged_field`] encodes one, [`read_tagged_field`] decodes one and insists that its
//!   bytes are used up.
//! - A field the schema does not mark ignorable must hold its default in a version that
//!   cannot carry it, or encoding fails ([`check_field`]). Ignorable fields are simply left
//!   out (and decode to their default), as Kafka's generated code does.
//!
//! # References
//! - KIP-482 (flexible versions, tagged fields, compact lengths)
//! - Kafka's message generator, `MessageDataGenerator.java` in apache/kafka
//!   `generator/src/main/java/org/apache/kafka/message/` (ignorable fields, tag buffers)

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{DecodeError, EncodeError};
use crate::primitives::{
    expect_empty, get_unknown_tagged_fields, put_empty_tagged_fields, RawTaggedField,
};

/// Writes the empty `TAG_BUFFER` that ends a struct in a flexible version; nothing in a
/// classic one.
#[inline]
pub(crate) fn put_tags<B: BufMut>(buf: &mut B, flexible: bool) {
    if flexible {
        put_empty_tagged_fields(buf);
    }
}

/// Reads the `TAG_BUFFER` that ends a struct in a flexible version and drops its fields (for
/// a struct with no tagged field this codec knows); reads nothing in a classic version.
pub(crate) fn skip_tags(buf: &mut Bytes, flexible: bool) -> Result<(), DecodeError> {
    if flexible {
        get_unknown_tagged_fields(buf)?;
    }
    Ok(())
}

/// The fewest bytes a (nullable) string takes: its length prefix, a one-byte varint when
/// flexible, an `INT16` otherwise.
#[inline]
pub(crate) const fn min_string_len(flexible: bool) -> usize {
    if flexible {
        1
    } else {
        2
    }
}

/// The fewest bytes a (nullable) array, byte string or records field takes: its length
/// prefix, a one-byte varint when flexible, an `INT32` otherwise.
#[inline]
pub(crate) const fn min_array_len(flexible: bool) -> usize {
    if flexible {
        1
    } else {
        4
    }
}

/// The bytes an empty `TAG_BUFFER` takes at the end of a struct: one when flexible, none
/// otherwise.
#[inline]
pub(crate) const fn tags_len(flexible: bool) -> usize {
    if flexible {
        1
    } else {
        0
    }
}

/// A tagged field with tag `tag` whose payload `write` encodes (always in the flexible
/// form, as tagged fields only exist there). The payload is built apart so that a failing
/// `write` leaves the message's buffer untouched.
pub(crate) fn tagged_field(
    tag: u32,
    write: impl FnOnce(&mut BytesMut) -> Result<(), EncodeError>,
) -> Result<RawTaggedField, EncodeError> {
    let mut data = BytesMut::new();
    write(&mut data)?;
    Ok(RawTaggedField {
        tag,
        data: data.freeze(),
    })
}

/// Decodes the payload of a known tagged field with `read`; bytes `read` leaves over are
/// [`DecodeError::TrailingBytes`], as for a whole message.
pub(crate) fn read_tagged_field<T>(
    mut data: Bytes,
    read: impl FnOnce(&mut Bytes) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let value = read(&mut data)?;
    expect_empty(&data)?;
    Ok(value)
}

/// Checks a field the schema does not mark ignorable, before anything is written: when
/// `version` cannot carry it (`carried` is false) it must hold its default (`is_default`),
/// or encoding fails with [`EncodeError::FieldNotAvailable`] naming `field`.
///
/// ```text
/// check_field("producer_id", version, version >= 3, self.producer_id == -1)?;
/// ```
pub(crate) fn check_field(
    field: &'static str,
    version: i16,
    carried: bool,
    is_default: bool,
) -> Result<(), EncodeError> {
    if carried || is_default {
        Ok(())
    } else {
        Err(EncodeError::FieldNotAvailable { field, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primitives::{
        get_array, get_i32, get_string, get_tagged_fields, put_array, put_string, put_tagged_fields,
    };
    use proptest::prelude::*;

    #[test]
    fn tags_are_written_and_read_only_when_flexible() {
        let mut buf = BytesMut::new();
        put_tags(&mut buf, false);
        assert!(buf.is_empty());
        put_tags(&mut buf, true);
        assert_eq!(&buf[..], &[0x00]);
        assert_eq!(buf.len(), tags_len(true));
        assert_eq!(tags_len(false), 0);

        // A classic struct has no tag buffer: nothing is consumed.
        let mut classic = Bytes::from_static(&[0x01, 0x02]);
        skip_tags(&mut classic, false).unwrap();
        assert_eq!(classic.len(), 2);
        // A flexible one: unknown fields are read and dropped, what follows is left.
        let mut flexible = Bytes::from_static(&[0x01, 0x07, 0x02, 0xab, 0xcd, 0x99]);
        skip_tags(&mut flexible, true).unwrap();
        assert_eq!(&flexible[..], &[0x99]);
        // A cut-off tag buffer is an error, not a panic.
        let mut cut = Bytes::from_static(&[0x01, 0x07, 0x02, 0xab]);
        assert!(matches!(
            skip_tags(&mut cut, true),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn smallest_sizes_match_the_encodings_of_empty_values() {
        for flexible in [false, true] {
            let mut string = BytesMut::new();
            put_string(&mut string, "", flexible).unwrap();
            assert_eq!(string.len(), min_string_len(flexible), "{flexible}");
            let mut array = BytesMut::new();
            put_array(&mut array, &[] as &[i32], flexible, |_, _| Ok(())).unwrap();
            assert_eq!(array.len(), min_array_len(flexible), "{flexible}");
            let mut bytes = BytesMut::new();
            crate::primitives::put_bytes(&mut bytes, &[], flexible).unwrap();
            assert_eq!(bytes.len(), min_array_len(flexible), "{flexible}");
        }
    }

    #[test]
    fn known_tagged_fields_round_trip_and_must_be_used_up() {
        let field = tagged_field(3, |b| {
            b.put_i32(7);
            put_string(b, "x", true)
        })
        .unwrap();
        assert_eq!(field.tag, 3);
        assert_eq!(&field.data[..], &[0, 0, 0, 7, 0x02, b'x']);
        let read = |b: &mut Bytes| Ok((get_i32(b)?, get_string(b, true)?));
        assert_eq!(
            read_tagged_field(field.data.clone(), read),
            Ok((7, "x".to_owned()))
        );

        // One byte too many inside the field.
        let mut long = field.data.to_vec();
        long.push(0);
        assert_eq!(
            read_tagged_field(Bytes::from(long), read),
            Err(DecodeError::TrailingBytes(1))
        );
        // One byte too few.
        let short = field.data.slice(..field.data.len() - 1);
        assert!(matches!(
            read_tagged_field(short, read),
            Err(DecodeError::UnexpectedEnd { .. })
        ));

        // Inside a tag buffer, next to an unknown field that is kept.
        let mut buf = BytesMut::new();
        let unknown = RawTaggedField {
            tag: 9,
            data: Bytes::from_static(b"?"),
        };
        put_tagged_fields(&mut buf, &[field, unknown.clone()]);
        let mut known = None;
        let rest = get_tagged_fields(&mut buf.freeze(), |tag, data| {
            if tag != 3 {
                return Ok(false);
            }
            known = Some(read_tagged_field(data, read)?);
            Ok(true)
        })
        .unwrap();
        assert_eq!(known, Some((7, "x".to_owned())));
        assert_eq!(rest, vec![unknown]);
    }

    #[test]
    fn a_failing_tagged_field_writer_is_reported() {
        let result = tagged_field(0, |b| {
            put_array(b, &[1, 2], true, |_, _: &i32| {
                Err(EncodeError::FieldNotAvailable {
                    field: "inner",
                    version: 10,
                })
            })
        });
        assert_eq!(
            result,
            Err(EncodeError::FieldNotAvailable {
                field: "inner",
                version: 10
            })
        );
    }

    #[test]
    fn fields_that_are_not_ignorable() {
        // Carried: any value goes.
        assert_eq!(check_field("f", 5, true, false), Ok(()));
        assert_eq!(check_field("f", 5, true, true), Ok(()));
        // Not carried: only the default goes.
        assert_eq!(check_field("f", 2, false, true), Ok(()));
        assert_eq!(
            check_field("f", 2, false, false),
            Err(EncodeError::FieldNotAvailable {
                field: "f",
                version: 2
            })
        );
    }

    proptest! {
        #[test]
        fn skipping_tags_never_panics(data: Vec<u8>, flexible: bool) {
            let _ = skip_tags(&mut Bytes::from(data), flexible);
        }

        #[test]
        fn a_tagged_struct_round_trips(values in proptest::collection::vec(any::<i32>(), 0..8)) {
            let field = tagged_field(0, |b| {
                put_array(b, &values, true, |b, v| {
                    b.put_i32(*v);
                    Ok(())
                })
            })
            .unwrap();
            let again = read_tagged_field(field.data, |b| get_array(b, true, 4, get_i32)).unwrap();
            prop_assert_eq!(again, values);
        }
    }
}
