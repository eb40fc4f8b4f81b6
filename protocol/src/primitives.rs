//! The protocol's primitive types: fixed-width integers, varints, strings, byte strings,
//! arrays, UUIDs and tagged fields, in their classic and compact ("flexible") forms.
//!
//! Every reader takes `&mut Bytes` and checks `remaining()` before it consumes anything, so a
//! short input is a [`DecodeError::UnexpectedEnd`], never a panic. Lengths read from the wire
//! are checked against the input that is left before anything is allocated.
//!
//! Writers take `&mut impl BufMut`. A `flexible` flag picks the compact form (lengths as
//! unsigned varints holding N+1) used by the flexible versions of a message (KIP-482).
//!
//! # References
//! - Kafka protocol guide, "Protocol Primitive Types": <https://kafka.apache.org/protocol#protocol_types>
//! - KIP-482 (tagged fields and compact types)
//! - `ByteUtils.java` in apache/kafka for the varint forms (zig-zag for records, plain for
//!   compact lengths)

use bytes::{Buf, BufMut, Bytes};

use crate::error::{DecodeError, EncodeError};

/// A 16-byte UUID as Kafka writes it (topic ids): big-endian, no hyphens.
pub type Uuid = [u8; 16];

/// The all-zero UUID, which Kafka uses for "no topic id".
pub const ZERO_UUID: Uuid = [0; 16];

fn need(buf: &Bytes, n: usize) -> Result<(), DecodeError> {
    if buf.remaining() < n {
        Err(DecodeError::UnexpectedEnd {
            needed: n,
            remaining: buf.remaining(),
        })
    } else {
        Ok(())
    }
}

/// Reads an `INT8`.
pub fn get_i8(buf: &mut Bytes) -> Result<i8, DecodeError> {
    need(buf, 1)?;
    Ok(buf.get_i8())
}

/// Reads an `INT16`.
pub fn get_i16(buf: &mut Bytes) -> Result<i16, DecodeError> {
    need(buf, 2)?;
    Ok(buf.get_i16())
}

/// Reads an `INT32`.
pub fn get_i32(buf: &mut Bytes) -> Result<i32, DecodeError> {
    need(buf, 4)?;
    Ok(buf.get_i32())
}

/// Reads an `UINT32`.
pub fn get_u32(buf: &mut Bytes) -> Result<u32, DecodeError> {
    need(buf, 4)?;
    Ok(buf.get_u32())
}

/// Reads an `INT64`.
pub fn get_i64(buf: &mut Bytes) -> Result<i64, DecodeError> {
    need(buf, 8)?;
    Ok(buf.get_i64())
}

/// Reads a `BOOLEAN` (any non-zero byte is true, as the Java reader has it).
pub fn get_bool(buf: &mut Bytes) -> Result<bool, DecodeError> {
    Ok(get_i8(buf)? != 0)
}

/// Reads a `UUID`.
pub fn get_uuid(buf: &mut Bytes) -> Result<Uuid, DecodeError> {
    need(buf, 16)?;
    let mut id = [0u8; 16];
    buf.copy_to_slice(&mut id);
    Ok(id)
}

/// Writes a `BOOLEAN`.
pub fn put_bool(buf: &mut impl BufMut, value: bool) {
    buf.put_u8(u8::from(value));
}

/// Writes a `UUID`.
pub fn put_uuid(buf: &mut impl BufMut, id: &Uuid) {
    buf.put_slice(id);
}

// ---------------------------------------------------------------------------------------
// Varints
// ---------------------------------------------------------------------------------------

/// Reads an `UNSIGNED_VARINT` (7-bit groups, least significant first; at most 5 bytes).
pub fn get_unsigned_varint(buf: &mut Bytes) -> Result<u32, DecodeError> {
    let mut value: u32 = 0;
    for i in 0..5 {
        need(buf, 1)?;
        let byte = buf.get_u8();
        // The fifth byte may only carry the top 4 bits of a u32.
        if i == 4 && byte > 0x0f {
            return Err(DecodeError::VarintTooLong { max_bytes: 5 });
        }
        value |= u32::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::VarintTooLong { max_bytes: 5 })
}

/// Reads an unsigned 64-bit varint (at most 10 bytes).
pub fn get_unsigned_varlong(buf: &mut Bytes) -> Result<u64, DecodeError> {
    let mut value: u64 = 0;
    for i in 0..10 {
        need(buf, 1)?;
        let byte = buf.get_u8();
        if i == 9 && byte > 0x01 {
            return Err(DecodeError::VarintTooLong { max_bytes: 10 });
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DecodeError::VarintTooLong { max_bytes: 10 })
}

/// Writes an `UNSIGNED_VARINT`.
#[inline]
pub fn put_unsigned_varint(buf: &mut impl BufMut, mut value: u32) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Writes an unsigned 64-bit varint.
#[inline]
pub fn put_unsigned_varlong(buf: &mut impl BufMut, mut value: u64) {
    while value >= 0x80 {
        buf.put_u8((value as u8) | 0x80);
        value >>= 7;
    }
    buf.put_u8(value as u8);
}

/// Bytes an `UNSIGNED_VARINT` of `value` takes.
#[inline]
pub const fn unsigned_varint_len(value: u32) -> usize {
    match value {
        0..=0x7f => 1,
        0x80..=0x3fff => 2,
        0x4000..=0x1f_ffff => 3,
        0x20_0000..=0xfff_ffff => 4,
        _ => 5,
    }
}

/// Bytes an unsigned 64-bit varint of `value` takes.
#[inline]
pub const fn unsigned_varlong_len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Zig-zag maps a signed 32-bit value to an unsigned one.
#[inline]
pub const fn zigzag32(value: i32) -> u32 {
    ((value << 1) ^ (value >> 31)) as u32
}

/// Zig-zag maps a signed 64-bit value to an unsigned one.
#[inline]
pub const fn zigzag64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Reads a `VARINT` (zig-zag, as record fields use).
pub fn get_varint(buf: &mut Bytes) -> Result<i32, DecodeError> {
    let raw = get_unsigned_varint(buf)?;
    Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// Reads a `VARLONG` (zig-zag).
pub fn get_varlong(buf: &mut Bytes) -> Result<i64, DecodeError> {
    let raw = get_unsigned_varlong(buf)?;
    Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

/// Writes a `VARINT` (zig-zag).
#[inline]
pub fn put_varint(buf: &mut impl BufMut, value: i32) {
    put_unsigned_varint(buf, zigzag32(value));
}

/// Writes a `VARLONG` (zig-zag).
#[inline]
pub fn put_varlong(buf: &mut impl BufMut, value: i64) {
    put_unsigned_varlong(buf, zigzag64(value));
}

/// Bytes a `VARINT` of `value` takes.
#[inline]
pub const fn varint_len(value: i32) -> usize {
    unsigned_varint_len(zigzag32(value))
}

/// Bytes a `VARLONG` of `value` takes.
#[inline]
pub const fn varlong_len(value: i64) -> usize {
    unsigned_varlong_len(zigzag64(value))
}

// ---------------------------------------------------------------------------------------
// Lengths (classic and compact)
// ---------------------------------------------------------------------------------------

/// Reads a length prefix: `INT16` for classic strings, `INT32` for classic bytes and arrays,
/// an `UNSIGNED_VARINT` holding N+1 for every compact form. `None` means null.
fn get_length(
    buf: &mut Bytes,
    flexible: bool,
    int16: bool,
    what: &'static str,
) -> Result<Option<usize>, DecodeError> {
    let length: i64 = if flexible {
        i64::from(get_unsigned_varint(buf)?) - 1
    } else if int16 {
        i64::from(get_i16(buf)?)
    } else {
        i64::from(get_i32(buf)?)
    };
    match length {
        -1 => Ok(None),
        n if n < -1 => Err(DecodeError::InvalidLength { what, length: n }),
        n => Ok(Some(n as usize)),
    }
}

fn put_length(
    buf: &mut impl BufMut,
    length: Option<usize>,
    flexible: bool,
    int16: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    let max = if int16 {
        i16::MAX as usize
    } else {
        i32::MAX as usize - 1
    };
    if let Some(n) = length {
        if n > max {
            return Err(EncodeError::TooLong {
                what,
                length: n,
                max,
            });
        }
    }
    if flexible {
        put_unsigned_varint(buf, length.map_or(0, |n| n as u32 + 1));
    } else if int16 {
        buf.put_i16(length.map_or(-1, |n| n as i16));
    } else {
        buf.put_i32(length.map_or(-1, |n| n as i32));
    }
    Ok(())
}

/// Bytes a length prefix of `length` takes (see [`put_string`] and friends).
pub fn length_prefix_len(length: Option<usize>, flexible: bool, int16: bool) -> usize {
    if flexible {
        unsigned_varint_len(length.map_or(0, |n| n as u32 + 1))
    } else if int16 {
        2
    } else {
        4
    }
}

fn take(buf: &mut Bytes, n: usize) -> Result<Bytes, DecodeError> {
    need(buf, n)?;
    Ok(buf.split_to(n))
}

fn utf8(bytes: Bytes) -> Result<String, DecodeError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::InvalidUtf8)
}

// ---------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------

/// Reads a `STRING` (or `COMPACT_STRING` when `flexible`); null is an error.
pub fn get_string(buf: &mut Bytes, flexible: bool) -> Result<String, DecodeError> {
    get_nullable_string(buf, flexible)?.ok_or(DecodeError::UnexpectedNull("string"))
}

/// Reads a `NULLABLE_STRING` (or `COMPACT_NULLABLE_STRING` when `flexible`).
pub fn get_nullable_string(buf: &mut Bytes, flexible: bool) -> Result<Option<String>, DecodeError> {
    match get_length(buf, flexible, true, "string")? {
        None => Ok(None),
        Some(n) => Ok(Some(utf8(take(buf, n)?)?)),
    }
}

/// Writes a `STRING` (or `COMPACT_STRING` when `flexible`).
pub fn put_string(buf: &mut impl BufMut, value: &str, flexible: bool) -> Result<(), EncodeError> {
    put_nullable_string(buf, Some(value), flexible)
}

/// Writes a `NULLABLE_STRING` (or `COMPACT_NULLABLE_STRING` when `flexible`).
pub fn put_nullable_string(
    buf: &mut impl BufMut,
    value: Option<&str>,
    flexible: bool,
) -> Result<(), EncodeError> {
    put_length(buf, value.map(str::len), flexible, true, "string")?;
    if let Some(s) = value {
        buf.put_slice(s.as_bytes());
    }
    Ok(())
}

/// Bytes a (nullable) string takes on the wire.
pub fn string_len(value: Option<&str>, flexible: bool) -> usize {
    let n = value.map(str::len);
    length_prefix_len(n, flexible, true) + n.unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Byte strings (BYTES, NULLABLE_BYTES, RECORDS and their compact forms)
// ---------------------------------------------------------------------------------------

/// Reads `NULLABLE_BYTES` (or the compact form when `flexible`), without copying.
pub fn get_nullable_bytes(buf: &mut Bytes, flexible: bool) -> Result<Option<Bytes>, DecodeError> {
    match get_length(buf, flexible, false, "bytes")? {
        None => Ok(None),
        Some(n) => Ok(Some(take(buf, n)?)),
    }
}

/// Reads `BYTES` (or `COMPACT_BYTES`); null is an error.
pub fn get_bytes(buf: &mut Bytes, flexible: bool) -> Result<Bytes, DecodeError> {
    get_nullable_bytes(buf, flexible)?.ok_or(DecodeError::UnexpectedNull("bytes"))
}

/// Writes `NULLABLE_BYTES` (or the compact form when `flexible`).
pub fn put_nullable_bytes(
    buf: &mut impl BufMut,
    value: Option<&[u8]>,
    flexible: bool,
) -> Result<(), EncodeError> {
    put_nullable_bytes_len(buf, value.map(<[u8]>::len), flexible, "bytes")?;
    if let Some(b) = value {
        buf.put_slice(b);
    }
    Ok(())
}

/// Writes only the length prefix of a `NULLABLE_BYTES` value of `len` bytes (`None` for
/// null), or of its compact form when `flexible`; the caller writes the payload after it,
/// from wherever it lives. `RECORDS` and `COMPACT_RECORDS` have the same prefix. `what` names
/// the field in the [`EncodeError::TooLong`] for a length above `i32::MAX - 1`.
pub fn put_nullable_bytes_len(
    buf: &mut impl BufMut,
    len: Option<usize>,
    flexible: bool,
    what: &'static str,
) -> Result<(), EncodeError> {
    put_length(buf, len, flexible, false, what)
}

/// Writes `BYTES` (or `COMPACT_BYTES`).
pub fn put_bytes(buf: &mut impl BufMut, value: &[u8], flexible: bool) -> Result<(), EncodeError> {
    put_nullable_bytes(buf, Some(value), flexible)
}

/// Bytes a (nullable) byte string takes on the wire.
pub fn bytes_len(value: Option<usize>, flexible: bool) -> usize {
    length_prefix_len(value, flexible, false) + value.unwrap_or(0)
}

// ---------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------

/// Reads the element count of an `ARRAY` (or `COMPACT_ARRAY` when `flexible`). `None` means
/// null.
///
/// `min_element_size` is the fewest bytes one element can take; a count that the remaining
/// input cannot hold is rejected here, so callers may size a `Vec` from the result without
/// trusting the wire.
pub fn get_array_len(
    buf: &mut Bytes,
    flexible: bool,
    min_element_size: usize,
) -> Result<Option<usize>, DecodeError> {
    let len = get_length(buf, flexible, false, "array")?;
    if let Some(n) = len {
        if n.saturating_mul(min_element_size.max(1)) > buf.remaining() {
            return Err(DecodeError::InvalidLength {
                what: "array",
                length: n as i64,
            });
        }
    }
    Ok(len)
}

/// Writes the element count of an `ARRAY` (or `COMPACT_ARRAY`). `None` writes null.
pub fn put_array_len(
    buf: &mut impl BufMut,
    len: Option<usize>,
    flexible: bool,
) -> Result<(), EncodeError> {
    put_length(buf, len, flexible, false, "array")
}

/// Reads a non-null array of elements with `read`.
pub fn get_array<T>(
    buf: &mut Bytes,
    flexible: bool,
    min_element_size: usize,
    mut read: impl FnMut(&mut Bytes) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let n = get_array_len(buf, flexible, min_element_size)?
        .ok_or(DecodeError::UnexpectedNull("array"))?;
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(read(buf)?);
    }
    Ok(items)
}

/// Reads a nullable array of elements with `read`.
pub fn get_nullable_array<T>(
    buf: &mut Bytes,
    flexible: bool,
    min_element_size: usize,
    mut read: impl FnMut(&mut Bytes) -> Result<T, DecodeError>,
) -> Result<Option<Vec<T>>, DecodeError> {
    match get_array_len(buf, flexible, min_element_size)? {
        None => Ok(None),
        Some(n) => {
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(read(buf)?);
            }
            Ok(Some(items))
        }
    }
}

/// Writes a non-null array, each element with `write`.
pub fn put_array<B: BufMut, T>(
    buf: &mut B,
    items: &[T],
    flexible: bool,
    mut write: impl FnMut(&mut B, &T) -> Result<(), EncodeError>,
) -> Result<(), EncodeError> {
    put_array_len(buf, Some(items.len()), flexible)?;
    for item in items {
        write(buf, item)?;
    }
    Ok(())
}

/// Reads an array of `INT32`.
pub fn get_i32_array(buf: &mut Bytes, flexible: bool) -> Result<Vec<i32>, DecodeError> {
    get_array(buf, flexible, 4, get_i32)
}

/// Writes an array of `INT32`.
pub fn put_i32_array(
    buf: &mut impl BufMut,
    items: &[i32],
    flexible: bool,
) -> Result<(), EncodeError> {
    put_array(buf, items, flexible, |b, v| {
        b.put_i32(*v);
        Ok(())
    })
}

// ---------------------------------------------------------------------------------------
// Tagged fields (flexible versions only)
// ---------------------------------------------------------------------------------------

/// A tagged field this codec does not interpret, kept as raw bytes so that a decode and a
/// re-encode give the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawTaggedField {
    /// The field's tag.
    pub tag: u32,
    /// The field's bytes.
    pub data: Bytes,
}

/// Reads a `TAG_BUFFER`, handing each field to `on_field(tag, data)`.
///
/// `on_field` returns `Ok(true)` when it understood the field; unknown fields (`Ok(false)`)
/// are collected and returned so that they survive a round trip. Tags must be strictly
/// increasing, as the Java reader requires.
pub fn get_tagged_fields(
    buf: &mut Bytes,
    mut on_field: impl FnMut(u32, Bytes) -> Result<bool, DecodeError>,
) -> Result<Vec<RawTaggedField>, DecodeError> {
    let count = get_unsigned_varint(buf)? as usize;
    // Each field takes at least two bytes (tag and size).
    if count.saturating_mul(2) > buf.remaining() {
        return Err(DecodeError::InvalidLength {
            what: "tagged fields",
            length: count as i64,
        });
    }
    let mut unknown = Vec::new();
    let mut last_tag: Option<u32> = None;
    for _ in 0..count {
        let tag = get_unsigned_varint(buf)?;
        if last_tag.is_some_and(|last| tag <= last) {
            return Err(DecodeError::InvalidValue {
                field: "tag",
                value: format!("{tag} after {}", last_tag.unwrap_or_default()),
            });
        }
        last_tag = Some(tag);
        let size = get_unsigned_varint(buf)? as usize;
        let data = take(buf, size)?;
        if !on_field(tag, data.clone())? {
            unknown.push(RawTaggedField { tag, data });
        }
    }
    Ok(unknown)
}

/// Reads a `TAG_BUFFER` and keeps every field raw.
pub fn get_unknown_tagged_fields(buf: &mut Bytes) -> Result<Vec<RawTaggedField>, DecodeError> {
    get_tagged_fields(buf, |_, _| Ok(false))
}

/// Writes a `TAG_BUFFER` from fields already sorted by tag.
pub fn put_tagged_fields(buf: &mut impl BufMut, fields: &[RawTaggedField]) {
    put_unsigned_varint(buf, fields.len() as u32);
    for field in fields {
        put_unsigned_varint(buf, field.tag);
        put_unsigned_varint(buf, field.data.len() as u32);
        buf.put_slice(&field.data);
    }
}

/// Writes an empty `TAG_BUFFER` (the single byte `0x00`).
#[inline]
pub fn put_empty_tagged_fields(buf: &mut impl BufMut) {
    buf.put_u8(0);
}

/// Fails with [`DecodeError::TrailingBytes`] unless `buf` is empty. A message decoder calls
/// this at the end of a frame, and a tagged field's decoder at the end of the field.
pub fn expect_empty(buf: &Bytes) -> Result<(), DecodeError> {
    if buf.has_remaining() {
        Err(DecodeError::TrailingBytes(buf.remaining()))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use proptest::prelude::*;

    fn unsigned(v: u32) -> Vec<u8> {
        let mut b = Vec::new();
        put_unsigned_varint(&mut b, v);
        b
    }

    fn zigzag(v: i32) -> Vec<u8> {
        let mut b = Vec::new();
        put_varint(&mut b, v);
        b
    }

    // Vectors from Kafka's ByteUtilsTest (see ../shared/design/protocol.md §1.5).
    #[test]
    fn unsigned_varint_vectors() {
        let cases: &[(u32, &[u8])] = &[
            (0, &[0x00]),
            (1, &[0x01]),
            (63, &[0x3f]),
            (64, &[0x40]),
            (8191, &[0xff, 0x3f]),
            (8192, &[0x80, 0x40]),
            (1_048_575, &[0xff, 0xff, 0x3f]),
            (1_048_576, &[0x80, 0x80, 0x40]),
            (i32::MAX as u32, &[0xff, 0xff, 0xff, 0xff, 0x07]),
            (-1i32 as u32, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN as u32, &[0x80, 0x80, 0x80, 0x80, 0x08]),
        ];
        for (value, bytes) in cases {
            assert_eq!(unsigned(*value), *bytes, "encode {value}");
            assert_eq!(unsigned_varint_len(*value), bytes.len());
            let mut b = Bytes::copy_from_slice(bytes);
            assert_eq!(get_unsigned_varint(&mut b).unwrap(), *value);
            assert!(b.is_empty());
        }
    }

    #[test]
    fn zigzag_varint_vectors() {
        let cases: &[(i32, &[u8])] = &[
            (0, &[0x00]),
            (-1, &[0x01]),
            (1, &[0x02]),
            (63, &[0x7e]),
            (-64, &[0x7f]),
            (64, &[0x80, 0x01]),
            (-65, &[0x81, 0x01]),
            (8191, &[0xfe, 0x7f]),
            (-8192, &[0xff, 0x7f]),
            (8192, &[0x80, 0x80, 0x01]),
            (i32::MAX, &[0xfe, 0xff, 0xff, 0xff, 0x0f]),
            (i32::MIN, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
        ];
        for (value, bytes) in cases {
            assert_eq!(zigzag(*value), *bytes, "encode {value}");
            assert_eq!(varint_len(*value), bytes.len());
            let mut b = Bytes::copy_from_slice(bytes);
            assert_eq!(get_varint(&mut b).unwrap(), *value);
        }
    }

    #[test]
    fn varlong_extremes() {
        for (value, bytes) in [
            (
                i64::MAX,
                vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
            (
                i64::MIN,
                vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            ),
        ] {
            let mut out = Vec::new();
            put_varlong(&mut out, value);
            assert_eq!(out, bytes);
            assert_eq!(varlong_len(value), bytes.len());
            assert_eq!(get_varlong(&mut Bytes::from(bytes)).unwrap(), value);
        }
    }

    #[test]
    fn varints_that_do_not_terminate_are_rejected() {
        let mut six = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
        assert_eq!(
            get_unsigned_varint(&mut six),
            Err(DecodeError::VarintTooLong { max_bytes: 5 })
        );
        let mut eleven = Bytes::from_static(&[0xff; 11]);
        assert_eq!(
            get_unsigned_varlong(&mut eleven),
            Err(DecodeError::VarintTooLong { max_bytes: 10 })
        );
        let mut short = Bytes::from_static(&[0x80]);
        assert!(matches!(
            get_unsigned_varint(&mut short),
            Err(DecodeError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn strings_classic_and_compact() {
        let mut b = BytesMut::new();
        put_string(&mut b, "kiel", false).unwrap();
        put_nullable_string(&mut b, None, false).unwrap();
        put_string(&mut b, "kiel", true).unwrap();
        put_nullable_string(&mut b, None, true).unwrap();
        assert_eq!(
            &b[..],
            &[0, 4, b'k', b'i', b'e', b'l', 0xff, 0xff, 5, b'k', b'i', b'e', b'l', 0][..]
        );
        let mut r = b.freeze();
        assert_eq!(get_string(&mut r, false).unwrap(), "kiel");
        assert_eq!(get_nullable_string(&mut r, false).unwrap(), None);
        assert_eq!(get_string(&mut r, true).unwrap(), "kiel");
        assert_eq!(
            get_string(&mut r, true),
            Err(DecodeError::UnexpectedNull("string"))
        );
    }

    #[test]
    fn bytes_length_prefix_alone() {
        let mut b = BytesMut::new();
        put_nullable_bytes_len(&mut b, Some(3), false, "records").unwrap();
        put_nullable_bytes_len(&mut b, None, false, "records").unwrap();
        put_nullable_bytes_len(&mut b, Some(3), true, "records").unwrap();
        put_nullable_bytes_len(&mut b, None, true, "records").unwrap();
        assert_eq!(&b[..], &[0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff, 4, 0][..]);
        let too_long = i32::MAX as usize;
        for flexible in [false, true] {
            assert_eq!(
                put_nullable_bytes_len(&mut b, Some(too_long), flexible, "records"),
                Err(EncodeError::TooLong {
                    what: "records",
                    length: too_long,
                    max: too_long - 1
                })
            );
        }
        assert_eq!(b.len(), 10, "nothing written on error");
    }

    #[test]
    fn array_count_larger_than_input_is_rejected_before_allocating() {
        let mut b = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 1]);
        assert!(matches!(
            get_i32_array(&mut b, false),
            Err(DecodeError::InvalidLength { .. })
        ));
        let mut b = Bytes::from_static(&[0xff, 0xff, 0xff, 0xfe]);
        assert!(matches!(
            get_array_len(&mut b, false, 1),
            Err(DecodeError::InvalidLength { length: -2, .. })
        ));
    }

    #[test]
    fn tagged_fields_keep_unknown_and_require_increasing_tags() {
        let fields = vec![
            RawTaggedField {
                tag: 0,
                data: Bytes::from_static(b"a"),
            },
            RawTaggedField {
                tag: 7,
                data: Bytes::from_static(b"bc"),
            },
        ];
        let mut b = BytesMut::new();
        put_tagged_fields(&mut b, &fields);
        let mut r = b.freeze();
        let mut seen = Vec::new();
        let unknown = get_tagged_fields(&mut r, |tag, _| {
            seen.push(tag);
            Ok(tag == 0)
        })
        .unwrap();
        assert_eq!(seen, vec![0, 7]);
        assert_eq!(unknown, fields[1..].to_vec());

        let mut bad = Bytes::from_static(&[2, 5, 0, 3, 0]);
        assert!(matches!(
            get_unknown_tagged_fields(&mut bad),
            Err(DecodeError::InvalidValue { field: "tag", .. })
        ));
    }

    proptest! {
        #[test]
        fn varint_round_trip(v: i32) {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            prop_assert_eq!(b.len(), varint_len(v));
            prop_assert_eq!(get_varint(&mut Bytes::from(b)).unwrap(), v);
        }

        #[test]
        fn varlong_round_trip(v: i64) {
            let mut b = Vec::new();
            put_varlong(&mut b, v);
            prop_assert_eq!(b.len(), varlong_len(v));
            prop_assert_eq!(get_varlong(&mut Bytes::from(b)).unwrap(), v);
        }

        #[test]
        fn unsigned_varint_round_trip(v: u32) {
            let mut b = Vec::new();
            put_unsigned_varint(&mut b, v);
            prop_assert_eq!(get_unsigned_varint(&mut Bytes::from(b)).unwrap(), v);
        }

        #[test]
        fn nullable_bytes_round_trip(v: Option<Vec<u8>>, flexible: bool) {
            let mut b = BytesMut::new();
            put_nullable_bytes(&mut b, v.as_deref(), flexible).unwrap();
            prop_assert_eq!(b.len(), bytes_len(v.as_ref().map(Vec::len), flexible));
            let got = get_nullable_bytes(&mut b.freeze(), flexible).unwrap();
            prop_assert_eq!(got.map(|b| b.to_vec()), v);
        }

        #[test]
        fn readers_never_panic(data: Vec<u8>, flexible: bool) {
            let input = Bytes::from(data);
            let _ = get_nullable_string(&mut input.clone(), flexible);
            let _ = get_nullable_bytes(&mut input.clone(), flexible);
            let _ = get_i32_array(&mut input.clone(), flexible);
            let _ = get_unknown_tagged_fields(&mut input.clone());
            let _ = get_varlong(&mut input.clone());
        }
    }
}
