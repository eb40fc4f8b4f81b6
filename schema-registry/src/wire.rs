//! The Confluent wire format: a record value (or key) serialized through a registry starts
//! with a magic byte 0 and the schema id as a 4-byte big-endian integer; Protobuf adds the
//! message-index list after it (see the Protobuf serializer).
//!
//! # References
//! - Confluent Schema Registry documentation, "Wire format"

use bytes::{BufMut, BytesMut};

use crate::error::{Error, Result};

/// The first byte of every value in the Confluent wire format.
pub const MAGIC_BYTE: u8 = 0;

/// The length of the header: the magic byte and the schema id.
pub const HEADER_LEN: usize = 5;

/// Writes the header for schema `id` into `out`.
pub fn write_header(id: u32, out: &mut BytesMut) {
    out.reserve(HEADER_LEN);
    out.put_u8(MAGIC_BYTE);
    out.put_u32(id);
}

/// Splits a value in the wire format into its schema id and the rest (the payload).
pub fn split_header(value: &[u8]) -> Result<(u32, &[u8])> {
    match value {
        [MAGIC_BYTE, a, b, c, d, rest @ ..] => Ok((u32::from_be_bytes([*a, *b, *c, *d]), rest)),
        [other, ..] if *other != MAGIC_BYTE => Err(Error::WireFormat(format!(
            "the value starts with byte {other}, not the magic byte 0: not written through a \
             schema registry"
        ))),
        _ => Err(Error::WireFormat(format!(
            "{} bytes: too short for the 5-byte header",
            value.len()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips() {
        let mut out = BytesMut::new();
        write_header(0x0102_0304, &mut out);
        out.extend_from_slice(b"payload");
        assert_eq!(&out[..5], &[0, 1, 2, 3, 4]);
        let (id, payload) = split_header(&out).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(id, 0x0102_0304);
        assert_eq!(payload, b"payload");
    }

    #[test]
    fn foreign_and_short_values_are_refused() {
        assert!(matches!(
            split_header(b"\x01abcdef"),
            Err(Error::WireFormat(_))
        ));
        assert!(matches!(
            split_header(&[0, 0, 0]),
            Err(Error::WireFormat(_))
        ));
        assert!(matches!(split_header(&[]), Err(Error::WireFormat(_))));
    }
}
